/*
 * Wrappers for Asterisk macros and inline helpers; see include/audiosocket_shim.h.
 * Compiled against the same headers bindgen reads, so each wrapper expands the
 * macro exactly as the headers in use define it.
 */
#ifndef AST_MODULE
#define AST_MODULE "chan_audiosocket_rs"
#endif

#include <dlfcn.h>
#include <string.h>

#include "audiosocket_shim.h"

const char ars_gpl_key[] = ASTERISK_GPL_KEY;

void ars_log(int level, const char *file, int line, const char *func, const char *msg)
{
	ast_log(level, file, line, func, "%s\n", msg);
}

void ars_verb(int level, const char *file, int line, const char *func, const char *msg)
{
	__ast_verbose(file, line, func, level, "%s\n", msg);
}

int ars_verb_enabled(int level)
{
	return VERBOSITY_ATLEAST(level);
}

int ars_debug_enabled(int level)
{
	return DEBUG_ATLEAST(level);
}

int ars_ao2_ref(void *obj, int delta)
{
	return __ao2_ref(obj, delta, "", __FILE__, __LINE__, __func__);
}

void ars_channel_lock(struct ast_channel *chan)
{
	__ao2_lock(chan, AO2_LOCK_REQ_MUTEX, __FILE__, __func__, __LINE__, "chan");
}

void ars_channel_unlock(struct ast_channel *chan)
{
	__ao2_unlock(chan, __FILE__, __func__, __LINE__, "chan");
}

struct ast_format_cap *ars_format_cap_alloc(void)
{
	return __ast_format_cap_alloc(AST_FORMAT_CAP_FLAG_DEFAULT, "chan_audiosocket_rs caps",
		__FILE__, __LINE__, __func__);
}

int ars_format_cap_append(struct ast_format_cap *cap, struct ast_format *format)
{
	return __ast_format_cap_append(cap, format, 0, "chan_audiosocket_rs caps",
		__FILE__, __LINE__, __func__);
}

struct ast_channel *ars_channel_alloc(const struct ast_assigned_ids *assignedids,
	const struct ast_channel *requestor, const char *name)
{
	return __ast_channel_alloc(1, AST_STATE_DOWN, NULL, NULL, NULL, NULL, NULL,
		assignedids, requestor, AST_AMA_NONE, NULL,
		__FILE__, __LINE__, __func__, "%s", name);
}

int ars_channel_redirected(struct ast_channel *chan)
{
	return (ast_channel_softhangup_internal_flag(chan) & AST_SOFTHANGUP_ASYNCGOTO) != 0;
}

void ars_frfree(struct ast_frame *frame)
{
	ast_frame_free(frame, 1);
}

void ars_module_ref(struct ast_module *mod)
{
	__ast_module_ref(mod, __FILE__, __LINE__, __func__);
}

void ars_module_unref(struct ast_module *mod)
{
	__ast_module_unref(mod, __FILE__, __LINE__, __func__);
}

void ars_cli(int fd, const char *msg)
{
	ast_cli(fd, "%s", msg);
}

void ars_manager_event(struct ast_channel *chan, const char *event, const char *body)
{
	struct ast_channel *chans[1] = { chan };

	__ast_manager_event_multichan(EVENT_FLAG_CALL, event, chan ? 1 : 0, chan ? chans : NULL,
		__FILE__, __LINE__, __func__, "%s", body);
}

struct ast_config *ars_config_load(const char *file, int only_if_changed, int *status)
{
	struct ast_flags flags = { only_if_changed ? CONFIG_FLAG_FILEUNCHANGED : 0 };
	struct ast_config *cfg = ast_config_load2(file, AST_MODULE, flags);

	if (cfg == CONFIG_STATUS_FILEMISSING) {
		*status = ARS_CONFIG_MISSING;
		return NULL;
	}
	if (cfg == CONFIG_STATUS_FILEUNCHANGED) {
		*status = ARS_CONFIG_UNCHANGED;
		return NULL;
	}
	if (cfg == CONFIG_STATUS_FILEINVALID) {
		*status = ARS_CONFIG_INVALID;
		return NULL;
	}
	*status = ARS_CONFIG_LOADED;
	return cfg;
}

struct ast_custom_function *ars_function_register(const char *name, const char *synopsis,
	const char *syntax, const char *desc, ast_acf_read_fn_t read, ast_acf_write_fn_t write,
	struct ast_module *mod)
{
	struct ast_custom_function *acf = __ast_calloc(1, sizeof(*acf), __FILE__, __LINE__, __func__);

	if (!acf) {
		return NULL;
	}
	if (__ast_string_field_init(&acf->__field_mgr, &acf->__field_mgr_pool, 512,
			__FILE__, __LINE__, __func__)) {
		__ast_free(acf, __FILE__, __LINE__, __func__);
		return NULL;
	}
	acf->name = name;
	acf->read = read;
	acf->write = write;
	acf->docsrc = AST_STATIC_DOC;
	__ast_string_field_ptr_build(__FILE__, __LINE__, __func__, &acf->__field_mgr,
		&acf->__field_mgr_pool, (ast_string_field *) &acf->synopsis, "%s", synopsis);
	__ast_string_field_ptr_build(__FILE__, __LINE__, __func__, &acf->__field_mgr,
		&acf->__field_mgr_pool, (ast_string_field *) &acf->syntax, "%s", syntax);
	__ast_string_field_ptr_build(__FILE__, __LINE__, __func__, &acf->__field_mgr,
		&acf->__field_mgr_pool, (ast_string_field *) &acf->desc, "%s", desc);
	if (__ast_custom_function_register(acf, mod)) {
		__ast_string_field_free_memory(&acf->__field_mgr, &acf->__field_mgr_pool,
			AST_STRINGFIELD_DESTROY, __FILE__, __LINE__, __func__);
		__ast_free(acf, __FILE__, __LINE__, __func__);
		return NULL;
	}
	return acf;
}

void ars_function_unregister(struct ast_custom_function *acf)
{
	if (!acf) {
		return;
	}
	ast_custom_function_unregister(acf);
	__ast_string_field_free_memory(&acf->__field_mgr, &acf->__field_mgr_pool,
		AST_STRINGFIELD_DESTROY, __FILE__, __LINE__, __func__);
	__ast_free(acf, __FILE__, __LINE__, __func__);
}

int ars_app_has_own_docs(const char *app, struct ast_module *mod)
{
	/* Looked up rather than linked: an Asterisk built without XML
	 * documentation lacks it, and the loader resolves every symbol at once. */
	char *(*provided_by)(const char *, const char *, const char *) =
		(char *(*)(const char *, const char *, const char *)) dlsym(RTLD_DEFAULT,
			"ast_xmldoc_build_provided_by");
	const char *module = ast_module_name(mod);
	char *who;
	int ours;

	if (!provided_by || !module) {
		return 0;
	}
	/* The module attribute of the node Asterisk would show: another
	 * module's documentation (app_audiosocket's) when ours is missing. */
	who = provided_by("application", app, module);
	ours = who && !strcmp(who, module);
	__ast_free(who, __FILE__, __LINE__, __func__);
	return ours;
}
