#ifndef ARS_ASTERISK_AUDIOHOOK_H
#define ARS_ASTERISK_AUDIOHOOK_H

#include <sys/time.h>
#include "asterisk/lock.h"
#include "asterisk/linkedlists.h"
#include "asterisk/slinfactory.h"

struct ast_channel;
struct ast_frame;

enum ast_audiohook_type {
	AST_AUDIOHOOK_TYPE_SPY = 0,
	AST_AUDIOHOOK_TYPE_WHISPER,
	AST_AUDIOHOOK_TYPE_MANIPULATE,
};

enum ast_audiohook_status {
	AST_AUDIOHOOK_STATUS_NEW = 0,
	AST_AUDIOHOOK_STATUS_RUNNING,
	AST_AUDIOHOOK_STATUS_SHUTDOWN,
	AST_AUDIOHOOK_STATUS_DONE,
};

enum ast_audiohook_direction {
	AST_AUDIOHOOK_DIRECTION_READ = 0,
	AST_AUDIOHOOK_DIRECTION_WRITE,
	AST_AUDIOHOOK_DIRECTION_BOTH,
};

enum ast_audiohook_init_flags {
	AST_AUDIOHOOK_MANIPULATE_ALL_RATES = (1 << 0),
};

struct ast_audiohook;

/* A manipulate hook's callback: a frame passes (return 0 if it was
 * changed), or, with a NULL frame, the hook has left the channel for good. */
typedef int (*ast_audiohook_manipulate_callback)(struct ast_audiohook *audiohook,
	struct ast_channel *chan, struct ast_frame *frame, enum ast_audiohook_direction direction);

struct ast_audiohook_options {
	int read_volume;
	int write_volume;
};

/* Allocated by its user, initialised by ast_audiohook_init(). */
struct ast_audiohook {
	ast_mutex_t lock;
	ast_cond_t trigger;
	enum ast_audiohook_type type;
	enum ast_audiohook_status status;
	enum ast_audiohook_init_flags init_flags;
	const char *source;
	unsigned int flags;
	struct ast_slinfactory read_factory;
	struct ast_slinfactory write_factory;
	struct timeval read_time;
	struct timeval write_time;
	struct ast_format *format;
	struct ast_trans_pvt *trans_pvt;
	ast_audiohook_manipulate_callback manipulate_callback;
	struct ast_audiohook_options options;
	unsigned int hook_internal_samp_rate;
	enum ast_audiohook_direction direction;
	AST_LIST_ENTRY(ast_audiohook) list;
};

int ast_audiohook_init(struct ast_audiohook *audiohook, enum ast_audiohook_type type,
	const char *source, enum ast_audiohook_init_flags flags);
int ast_audiohook_destroy(struct ast_audiohook *audiohook);
int ast_audiohook_attach(struct ast_channel *chan, struct ast_audiohook *audiohook);
int ast_audiohook_remove(struct ast_channel *chan, struct ast_audiohook *audiohook);
void ast_audiohook_update_status(struct ast_audiohook *audiohook, enum ast_audiohook_status status);

#endif
