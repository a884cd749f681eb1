/*
 * The C side of the Asterisk boundary: one small wrapper for each Asterisk
 * macro or inline helper the module needs, so that Rust calls plain functions
 * with the same meaning the macros have in C. Implemented in src/shim/shim.c;
 * bindgen reads this header (and the Asterisk headers it includes) to produce
 * the raw bindings.
 */
#ifndef AUDIOSOCKET_SHIM_H
#define AUDIOSOCKET_SHIM_H

#include "asterisk.h"
#include "asterisk/module.h"
#include "asterisk/logger.h"
#include "asterisk/astobj2.h"
#include "asterisk/frame.h"
#include "asterisk/format.h"
#include "asterisk/format_cap.h"
#include "asterisk/format_cache.h"
#include "asterisk/channel.h"
#include "asterisk/pbx.h"
#include "asterisk/causes.h"
#include "asterisk/cli.h"
#include "asterisk/config.h"
#include "asterisk/manager.h"
#include "asterisk/audiohook.h"
#include "asterisk/datastore.h"
#include "asterisk/translate.h"
#include "asterisk/musiconhold.h"
#include "asterisk/utils.h"

/* ASTERISK_GPL_KEY, for ast_module_info.key. */
extern const char ars_gpl_key[];

/* ast_log() with a fixed format: the message is never read as a format. */
void ars_log(int level, const char *file, int line, const char *func, const char *msg);
/* ast_verb()'s output, without its level check: ask ars_verb_enabled() first. */
void ars_verb(int level, const char *file, int line, const char *func, const char *msg);
/* Whether some console or log channel listens at this verbosity (VERBOSITY_ATLEAST). */
int ars_verb_enabled(int level);
/* Whether "core set debug" reaches this level for this module (DEBUG_ATLEAST). */
int ars_debug_enabled(int level);

/* ao2_ref(). Returns the count before the change. */
int ars_ao2_ref(void *obj, int delta);
/* ast_channel_lock() / ast_channel_unlock(). */
void ars_channel_lock(struct ast_channel *chan);
void ars_channel_unlock(struct ast_channel *chan);

/* ast_format_cap_alloc() and ast_format_cap_append() with default framing. */
struct ast_format_cap *ars_format_cap_alloc(void);
int ars_format_cap_append(struct ast_format_cap *cap, struct ast_format *format);

/* ast_channel_alloc() for an outgoing channel named exactly `name`; returned locked. */
struct ast_channel *ars_channel_alloc(const struct ast_assigned_ids *assignedids,
	const struct ast_channel *requestor, const char *name);

/* Whether an async goto (a redirect) is what interrupts the channel. */
int ars_channel_redirected(struct ast_channel *chan);

/* ast_frfree(). */
void ars_frfree(struct ast_frame *frame);

/* manager_event(EVENT_FLAG_CALL, event, ...) with a fixed format; body is
 * "Key: Value\r\n" lines. */
void ars_manager_event(struct ast_channel *chan, const char *event, const char *body);

/* ast_cli() with a fixed format. */
void ars_cli(int fd, const char *msg);

/* ast_config_load2() for `file`, asked by this module; `only_if_changed`
 * sets CONFIG_FLAG_FILEUNCHANGED. Returns the configuration, or NULL with
 * *status set: ARS_CONFIG_MISSING, ARS_CONFIG_UNCHANGED or ARS_CONFIG_INVALID
 * (the CONFIG_STATUS_* pointer values, which bindgen cannot express). */
enum { ARS_CONFIG_LOADED = 0, ARS_CONFIG_MISSING = 1, ARS_CONFIG_UNCHANGED = 2, ARS_CONFIG_INVALID = 3 };
struct ast_config *ars_config_load(const char *file, int only_if_changed, int *status);

/* A dialplan function with static documentation (Asterisk looks for XML
 * documentation otherwise), allocated here because its documentation lives
 * in string fields; registered for `mod`. NULL on failure. */
struct ast_custom_function *ars_function_register(const char *name, const char *synopsis,
	const char *syntax, const char *desc, ast_acf_read_fn_t read, ast_acf_write_fn_t write,
	struct ast_module *mod);
/* Whether Asterisk's XML documentation holds an application of this name
 * written for this module (ours, installed in documentation/thirdparty): then
 * the application registers without static text and Asterisk shows its
 * syntax and arguments as it does its own. 0 where Asterisk was built
 * without XML documentation. */
int ars_app_has_own_docs(const char *app, struct ast_module *mod);
/* Unregisters and frees what ars_function_register made. */
void ars_function_unregister(struct ast_custom_function *acf);

/* ast_module_ref() / ast_module_unref(). */
void ars_module_ref(struct ast_module *mod);
void ars_module_unref(struct ast_module *mod);

#endif
