#ifndef ARS_ASTERISK_STRINGFIELDS_H
#define ARS_ASTERISK_STRINGFIELDS_H

#include <stddef.h>

/* String fields: const char pointers into a pool their struct manages. */
typedef const char *ast_string_field;

struct ast_string_field_pool;

struct ast_string_field_vector {
	const char ***elems;
	size_t max;
	size_t current;
};

struct ast_string_field_mgr {
	ast_string_field last_alloc;
	struct ast_string_field_pool *embedded_pool;
	struct ast_string_field_vector string_fields;
};

#define AST_DECLARE_STRING_FIELDS(field_list) \
	struct ast_string_field_pool *__field_mgr_pool; \
	field_list \
	struct ast_string_field_mgr __field_mgr

#define AST_STRING_FIELD(name) const ast_string_field name
#define AST_STRING_FIELD_EXTENDED(name) AST_STRING_FIELD(name)

enum ast_stringfield_cleanup_type {
	AST_STRINGFIELD_RESET = 0,
	AST_STRINGFIELD_DESTROY = -1,
};

int __ast_string_field_init(struct ast_string_field_mgr *mgr, struct ast_string_field_pool **pool_head,
	int needed, const char *file, int lineno, const char *func);
int __ast_string_field_free_memory(struct ast_string_field_mgr *mgr,
	struct ast_string_field_pool **pool_head, enum ast_stringfield_cleanup_type cleanup_type,
	const char *file, int lineno, const char *func);
void __ast_string_field_ptr_build(const char *file, int lineno, const char *func,
	struct ast_string_field_mgr *mgr, struct ast_string_field_pool **pool_head,
	ast_string_field *ptr, const char *format, ...) __attribute__((format(printf, 7, 8)));

#endif
