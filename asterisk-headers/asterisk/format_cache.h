#ifndef ARS_ASTERISK_FORMAT_CACHE_H
#define ARS_ASTERISK_FORMAT_CACHE_H

#include "asterisk/format.h"

/* Signed linear 16-bit formats, one per sample rate, exported by the core. */
extern struct ast_format *ast_format_slin;
extern struct ast_format *ast_format_slin12;
extern struct ast_format *ast_format_slin16;
extern struct ast_format *ast_format_slin24;
extern struct ast_format *ast_format_slin32;
extern struct ast_format *ast_format_slin44;
extern struct ast_format *ast_format_slin48;
extern struct ast_format *ast_format_slin96;
extern struct ast_format *ast_format_slin192;
extern struct ast_format *ast_format_ulaw;

#endif
