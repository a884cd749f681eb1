#ifndef ARS_ASTERISK_DATASTORE_H
#define ARS_ASTERISK_DATASTORE_H

#include "asterisk/linkedlists.h"

struct ast_channel;
struct ast_module;

struct ast_datastore_info {
	const char *type;
	void *(*duplicate)(void *data);
	void (*destroy)(void *data);
	void (*chan_fixup)(void *data, struct ast_channel *old_chan, struct ast_channel *new_chan);
	void (*chan_breakdown)(void *data, struct ast_channel *old_chan, struct ast_channel *new_chan);
};

struct ast_datastore {
	const char *uid;
	void *data;
	const struct ast_datastore_info *info;
	struct ast_module *mod;
	unsigned int inheritance;
	AST_LIST_ENTRY(ast_datastore) entry;
};

struct ast_datastore *__ast_datastore_alloc(const struct ast_datastore_info *info, const char *uid,
	struct ast_module *mod, const char *file, int line, const char *function);
int ast_datastore_free(struct ast_datastore *datastore);
int ast_channel_datastore_add(struct ast_channel *chan, struct ast_datastore *datastore);
int ast_channel_datastore_remove(struct ast_channel *chan, struct ast_datastore *datastore);
struct ast_datastore *ast_channel_datastore_find(struct ast_channel *chan,
	const struct ast_datastore_info *info, const char *uid);

#endif
