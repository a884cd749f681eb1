#ifndef ARS_ASTERISK_LINKEDLISTS_H
#define ARS_ASTERISK_LINKEDLISTS_H

#define AST_LIST_ENTRY(type) struct { struct type *next; }
#define AST_LIST_HEAD_NOLOCK(name, type) struct name { struct type *first; struct type *last; }

#endif
