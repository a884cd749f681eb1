#ifndef ARS_ASTERISK_FORMAT_H
#define ARS_ASTERISK_FORMAT_H

struct ast_format;

enum ast_format_cmp_res {
	AST_FORMAT_CMP_EQUAL = 0,
	AST_FORMAT_CMP_NOT_EQUAL,
	AST_FORMAT_CMP_SUBSET,
};

enum ast_format_cmp_res ast_format_cmp(const struct ast_format *format1, const struct ast_format *format2);
const char *ast_format_get_name(const struct ast_format *format);
unsigned int ast_format_get_sample_rate(const struct ast_format *format);

#endif
