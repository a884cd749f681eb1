#ifndef ARS_ASTERISK_UTILS_H
#define ARS_ASTERISK_UTILS_H

#include <stdint.h>

struct ast_flags {
	unsigned int flags;
};

struct ast_flags64 {
	uint64_t flags;
};

#define ast_test_flag64(p, flag) ((p)->flags & (flag))

#endif
