#ifndef ARS_ASTERISK_FORMAT_CAP_H
#define ARS_ASTERISK_FORMAT_CAP_H

#include <stddef.h>
#include "asterisk/format.h"

struct ast_format_cap;

enum ast_format_cap_flags {
	AST_FORMAT_CAP_FLAG_DEFAULT = 0,
};

struct ast_format_cap *__ast_format_cap_alloc(enum ast_format_cap_flags flags,
	const char *tag, const char *file, int line, const char *func);
int __ast_format_cap_append(struct ast_format_cap *cap, struct ast_format *format, unsigned int framing,
	const char *tag, const char *file, int line, const char *func);
size_t ast_format_cap_count(const struct ast_format_cap *cap);
struct ast_format *ast_format_cap_get_format(const struct ast_format_cap *cap, int position);

#endif
