#ifndef ARS_ASTERISK_SLINFACTORY_H
#define ARS_ASTERISK_SLINFACTORY_H

#include <stddef.h>
#include "asterisk/frame.h"
#include "asterisk/linkedlists.h"

struct ast_trans_pvt;

#define AST_SLINFACTORY_MAX_HOLD 1280

/* Embedded in every audiohook; this module only needs its size. */
struct ast_slinfactory {
	AST_LIST_HEAD_NOLOCK(, ast_frame) queue;
	struct ast_trans_pvt *trans;
	short hold[AST_SLINFACTORY_MAX_HOLD];
	short *offset;
	size_t holdlen;
	unsigned int size;
	struct ast_format *format;
	struct ast_format *output_format;
};

#endif
