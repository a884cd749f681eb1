#ifndef ARS_ASTERISK_OPTIONS_H
#define ARS_ASTERISK_OPTIONS_H

#include "asterisk/utils.h"

/* Bit of ast_options set by "core set debug ... <module>". */
#define AST_OPT_FLAG_DEBUG_MODULE (1 << 23)

extern struct ast_flags64 ast_options;
extern int option_verbose;
extern int option_debug;

#define ast_opt_dbg_module ast_test_flag64(&ast_options, AST_OPT_FLAG_DEBUG_MODULE)

#endif
