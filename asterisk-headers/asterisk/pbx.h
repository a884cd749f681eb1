#ifndef ARS_ASTERISK_PBX_H
#define ARS_ASTERISK_PBX_H

#include <stddef.h>
#include <sys/types.h>
#include "asterisk/stringfields.h"

struct ast_channel;
struct ast_module;
struct ast_app;
struct ast_str;

struct ast_app *pbx_findapp(const char *app);

int pbx_builtin_setvar_helper(struct ast_channel *chan, const char *name, const char *value);
const char *pbx_builtin_getvar_helper(struct ast_channel *chan, const char *name);

/* Where a dialplan function's documentation comes from. */
enum ast_doc_src {
	AST_XML_DOC,
	AST_STATIC_DOC,
};

typedef int (*ast_acf_read_fn_t)(struct ast_channel *chan, const char *function, char *data, char *buf, size_t len);
typedef int (*ast_acf_read2_fn_t)(struct ast_channel *chan, const char *cmd, char *data, struct ast_str **str, ssize_t len);
typedef int (*ast_acf_write_fn_t)(struct ast_channel *chan, const char *function, char *data, const char *value);

/* A dialplan function, as `core show function` and `Set(NAME(...)=...)` reach it. */
struct ast_custom_function {
	const char *name;
	AST_DECLARE_STRING_FIELDS(
		AST_STRING_FIELD(synopsis);
		AST_STRING_FIELD(desc);
		AST_STRING_FIELD(syntax);
		AST_STRING_FIELD(arguments);
		AST_STRING_FIELD(seealso);
	);
	enum ast_doc_src docsrc;
	ast_acf_read_fn_t read;
	ast_acf_read2_fn_t read2;
	size_t read_max;
	ast_acf_write_fn_t write;
	struct ast_module *mod;
	unsigned int read_escalates:1;
	unsigned int write_escalates:1;
	struct {
		struct ast_custom_function *next;
	} acflist;
	AST_STRING_FIELD_EXTENDED(since);
	AST_STRING_FIELD_EXTENDED(provided_by);
};

int __ast_custom_function_register(struct ast_custom_function *acf, struct ast_module *mod);
int ast_custom_function_unregister(struct ast_custom_function *acf);

#endif
