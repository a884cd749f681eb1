#ifndef ARS_ASTERISK_TRANSLATE_H
#define ARS_ASTERISK_TRANSLATE_H

struct ast_format;
struct ast_frame;
struct ast_trans_pvt;

struct ast_trans_pvt *ast_translator_build_path(struct ast_format *dest, struct ast_format *source);
void ast_translator_free_path(struct ast_trans_pvt *tr);
struct ast_frame *ast_translate(struct ast_trans_pvt *tr, struct ast_frame *f, int consume);

#endif
