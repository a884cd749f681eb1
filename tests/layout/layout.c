/*
 * Prints the size and field offsets of every Asterisk struct the module
 * touches, and the values of the constants it uses. Compiled once against
 * the project's own declarations and once against an installed Asterisk's
 * headers; the test compares the two outputs line by line.
 */
#define AST_MODULE "layout_check"
#include <stdio.h>
#include <stddef.h>
#include "asterisk.h"
#include "asterisk/module.h"
#include "asterisk/frame.h"
#include "asterisk/channel.h"
#include "asterisk/causes.h"
#include "asterisk/logger.h"
#include "asterisk/format.h"
#include "asterisk/format_cap.h"
#include "asterisk/astobj2.h"
#include "asterisk/cli.h"
#include "asterisk/manager.h"
#include "asterisk/config.h"
#include "asterisk/pbx.h"
#include "asterisk/stringfields.h"
#include "asterisk/audiohook.h"
#include "asterisk/datastore.h"
#include "asterisk/translate.h"

#define SIZE(t) printf("sizeof(%s) = %zu\n", #t, sizeof(t))
#define OFF(t, f) printf("offsetof(%s, %s) = %zu\n", #t, #f, offsetof(t, f))
#define VAL(c) printf("%s = %lld\n", #c, (long long)(c))

int main(void)
{
	SIZE(struct ast_module_info);
	OFF(struct ast_module_info, self);
	OFF(struct ast_module_info, load);
	OFF(struct ast_module_info, reload);
	OFF(struct ast_module_info, unload);
	OFF(struct ast_module_info, name);
	OFF(struct ast_module_info, description);
	OFF(struct ast_module_info, key);
	OFF(struct ast_module_info, flags);
	OFF(struct ast_module_info, buildopt_sum);
	OFF(struct ast_module_info, load_pri);
	OFF(struct ast_module_info, requires);
	OFF(struct ast_module_info, optional_modules);
	OFF(struct ast_module_info, enhances);
	OFF(struct ast_module_info, reserved1);
	OFF(struct ast_module_info, reserved4);
	OFF(struct ast_module_info, support_level);

	SIZE(struct ast_frame_subclass);
	OFF(struct ast_frame_subclass, integer);
	OFF(struct ast_frame_subclass, format);
	OFF(struct ast_frame_subclass, frame_ending);

	SIZE(struct ast_frame);
	OFF(struct ast_frame, frametype);
	OFF(struct ast_frame, subclass);
	OFF(struct ast_frame, datalen);
	OFF(struct ast_frame, samples);
	OFF(struct ast_frame, mallocd);
	OFF(struct ast_frame, mallocd_hdr_len);
	OFF(struct ast_frame, offset);
	OFF(struct ast_frame, src);
	OFF(struct ast_frame, data);
	OFF(struct ast_frame, delivery);
	OFF(struct ast_frame, frame_list);
	OFF(struct ast_frame, flags);
	OFF(struct ast_frame, ts);
	OFF(struct ast_frame, len);
	OFF(struct ast_frame, seqno);
	OFF(struct ast_frame, stream_num);

	SIZE(struct ast_assigned_ids);
	OFF(struct ast_assigned_ids, uniqueid);
	OFF(struct ast_assigned_ids, uniqueid2);

	SIZE(struct ast_channel_tech);
	OFF(struct ast_channel_tech, type);
	OFF(struct ast_channel_tech, description);
	OFF(struct ast_channel_tech, capabilities);
	OFF(struct ast_channel_tech, properties);
	OFF(struct ast_channel_tech, requester);
	OFF(struct ast_channel_tech, requester_with_stream_topology);
	OFF(struct ast_channel_tech, devicestate);
	OFF(struct ast_channel_tech, presencestate);
	OFF(struct ast_channel_tech, send_digit_begin);
	OFF(struct ast_channel_tech, send_digit_end);
	OFF(struct ast_channel_tech, call);
	OFF(struct ast_channel_tech, hangup);
	OFF(struct ast_channel_tech, answer);
	OFF(struct ast_channel_tech, answer_with_stream_topology);
	OFF(struct ast_channel_tech, read);
	OFF(struct ast_channel_tech, read_stream);
	OFF(struct ast_channel_tech, write);
	OFF(struct ast_channel_tech, write_stream);
	OFF(struct ast_channel_tech, send_text);
	OFF(struct ast_channel_tech, exception);
	OFF(struct ast_channel_tech, indicate);
	OFF(struct ast_channel_tech, fixup);
	OFF(struct ast_channel_tech, write_text);
	OFF(struct ast_channel_tech, func_channel_read);
	OFF(struct ast_channel_tech, get_pvt_uniqueid);
	OFF(struct ast_channel_tech, cc_callback);
	OFF(struct ast_channel_tech, pre_call);
	OFF(struct ast_channel_tech, send_text_data);

	SIZE(struct ast_cli_args);
	OFF(struct ast_cli_args, fd);
	OFF(struct ast_cli_args, argc);
	OFF(struct ast_cli_args, argv);
	OFF(struct ast_cli_args, line);
	OFF(struct ast_cli_args, word);
	OFF(struct ast_cli_args, pos);
	OFF(struct ast_cli_args, n);

	SIZE(struct ast_cli_entry);
	OFF(struct ast_cli_entry, cmda);
	OFF(struct ast_cli_entry, summary);
	OFF(struct ast_cli_entry, usage);
	OFF(struct ast_cli_entry, inuse);
	OFF(struct ast_cli_entry, module);
	OFF(struct ast_cli_entry, _full_cmd);
	OFF(struct ast_cli_entry, cmdlen);
	OFF(struct ast_cli_entry, args);
	OFF(struct ast_cli_entry, command);
	OFF(struct ast_cli_entry, handler);
	OFF(struct ast_cli_entry, list);

	SIZE(struct ast_variable);
	OFF(struct ast_variable, name);
	OFF(struct ast_variable, value);
	OFF(struct ast_variable, next);
	OFF(struct ast_variable, file);
	OFF(struct ast_variable, lineno);
	OFF(struct ast_variable, inherited);
	OFF(struct ast_variable, stuff);
	SIZE(struct ast_flags);

	SIZE(struct ast_string_field_mgr);
	SIZE(struct ast_custom_function);
	OFF(struct ast_custom_function, name);
	OFF(struct ast_custom_function, __field_mgr_pool);
	OFF(struct ast_custom_function, synopsis);
	OFF(struct ast_custom_function, desc);
	OFF(struct ast_custom_function, syntax);
	OFF(struct ast_custom_function, arguments);
	OFF(struct ast_custom_function, seealso);
	OFF(struct ast_custom_function, __field_mgr);
	OFF(struct ast_custom_function, docsrc);
	OFF(struct ast_custom_function, read);
	OFF(struct ast_custom_function, read2);
	OFF(struct ast_custom_function, read_max);
	OFF(struct ast_custom_function, write);
	OFF(struct ast_custom_function, mod);
	OFF(struct ast_custom_function, acflist);
	OFF(struct ast_custom_function, since);
	OFF(struct ast_custom_function, provided_by);
	/* A live tap's audiohook: allocated by the module, so every byte counts. */
	SIZE(ast_mutex_t);
	SIZE(ast_cond_t);
	SIZE(struct ast_slinfactory);
	SIZE(struct ast_audiohook);
	OFF(struct ast_audiohook, lock);
	OFF(struct ast_audiohook, trigger);
	OFF(struct ast_audiohook, type);
	OFF(struct ast_audiohook, status);
	OFF(struct ast_audiohook, init_flags);
	OFF(struct ast_audiohook, source);
	OFF(struct ast_audiohook, flags);
	OFF(struct ast_audiohook, read_factory);
	OFF(struct ast_audiohook, write_factory);
	OFF(struct ast_audiohook, read_time);
	OFF(struct ast_audiohook, write_time);
	OFF(struct ast_audiohook, format);
	OFF(struct ast_audiohook, trans_pvt);
	OFF(struct ast_audiohook, manipulate_callback);
	OFF(struct ast_audiohook, options);
	OFF(struct ast_audiohook, hook_internal_samp_rate);
	OFF(struct ast_audiohook, direction);
	OFF(struct ast_audiohook, list);
	VAL(AST_AUDIOHOOK_TYPE_MANIPULATE);
	VAL(AST_AUDIOHOOK_STATUS_SHUTDOWN);
	VAL(AST_AUDIOHOOK_DIRECTION_READ);
	VAL(AST_AUDIOHOOK_DIRECTION_WRITE);

	/* The per-channel record of its taps. */
	SIZE(struct ast_datastore_info);
	OFF(struct ast_datastore_info, type);
	OFF(struct ast_datastore_info, duplicate);
	OFF(struct ast_datastore_info, destroy);
	OFF(struct ast_datastore_info, chan_fixup);
	OFF(struct ast_datastore_info, chan_breakdown);
	SIZE(struct ast_datastore);
	OFF(struct ast_datastore, uid);
	OFF(struct ast_datastore, data);
	OFF(struct ast_datastore, info);
	OFF(struct ast_datastore, mod);
	OFF(struct ast_datastore, inheritance);
	OFF(struct ast_datastore, entry);

	/* Who is calling, for the call context. */
	SIZE(struct ast_party_name);
	OFF(struct ast_party_name, str);
	OFF(struct ast_party_name, valid);
	SIZE(struct ast_party_number);
	OFF(struct ast_party_number, str);
	OFF(struct ast_party_number, valid);
	SIZE(struct ast_party_subaddress);
	SIZE(struct ast_party_id);
	OFF(struct ast_party_id, name);
	OFF(struct ast_party_id, number);
	OFF(struct ast_party_id, subaddress);
	OFF(struct ast_party_id, tag);
	SIZE(struct ast_party_caller);
	OFF(struct ast_party_caller, id);
	SIZE(struct ast_party_connected_line);
	OFF(struct ast_party_connected_line, id);

	VAL(AST_STATIC_DOC);
	VAL(AST_STRINGFIELD_DESTROY);

	VAL(CONFIG_FLAG_FILEUNCHANGED);
	VAL((long long)CONFIG_STATUS_FILEMISSING);
	VAL((long long)CONFIG_STATUS_FILEUNCHANGED);
	VAL((long long)CONFIG_STATUS_FILEINVALID);
	VAL(AST_SOFTHANGUP_ASYNCGOTO);
	VAL(AST_MAX_CMD_LEN);
	VAL(EVENT_FLAG_CALL);
	VAL(CLI_INIT);
	VAL(CLI_GENERATE);
	VAL(CLI_HANDLER);
	VAL(RESULT_SUCCESS);
	VAL(RESULT_SHOWUSAGE);
	VAL(AST_MODULE_LOAD_SUCCESS);
	VAL(AST_MODULE_LOAD_DECLINE);
	VAL(AST_MODFLAG_LOAD_ORDER);
	VAL(AST_MODPRI_CHANNEL_DRIVER);
	VAL(AST_MODULE_SUPPORT_EXTENDED);
	VAL(AST_FRAME_DTMF_END);
	VAL(AST_FRAME_VOICE);
	VAL(AST_FRAME_CONTROL);
	VAL(AST_FRAME_NULL);
	VAL(AST_FRAME_DTMF_BEGIN);
	VAL(AST_CONTROL_HANGUP);
	VAL(AST_CONTROL_ANSWER);
	VAL(AST_FRIENDLY_OFFSET);
	VAL(AST_STATE_DOWN);
	VAL(AST_STATE_UP);
	VAL(AST_AMA_NONE);
	VAL(AST_FORMAT_CMP_EQUAL);
	VAL(AST_FORMAT_CAP_FLAG_DEFAULT);
	VAL(AO2_LOCK_REQ_MUTEX);
	VAL(AST_CAUSE_NORMAL_CLEARING);
	VAL(AST_CAUSE_FAILURE);
	VAL(AST_CAUSE_DESTINATION_OUT_OF_ORDER);
	VAL(AST_CAUSE_INVALID_NUMBER_FORMAT);
	VAL(__LOG_DEBUG);
	VAL(__LOG_NOTICE);
	VAL(__LOG_WARNING);
	VAL(__LOG_ERROR);
	VAL(AST_OPT_FLAG_DEBUG_MODULE);
	return 0;
}
