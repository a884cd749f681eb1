#ifndef ARS_ASTERISK_UTILS_H
#define ARS_ASTERISK_UTILS_H

#include <stddef.h>
#include <stdint.h>

struct ast_flags {
	unsigned int flags;
};

struct ast_flags64 {
	uint64_t flags;
};

#define ast_test_flag64(p, flag) ((p)->flags & (flag))

/* Asterisk's allocator (astmm.h in Asterisk): what it allocates it frees. */
void *__ast_calloc(size_t nmemb, size_t size, const char *file, int lineno, const char *func);
void __ast_free(void *ptr, const char *file, int lineno, const char *func);
char *__ast_strdup(const char *s, const char *file, int lineno, const char *func);

#endif
