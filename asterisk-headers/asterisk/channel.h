#ifndef ARS_ASTERISK_CHANNEL_H
#define ARS_ASTERISK_CHANNEL_H

#include <stddef.h>
#include "asterisk/frame.h"
#include "asterisk/format.h"
#include "asterisk/format_cap.h"
#include "asterisk/channelstate.h"

struct ast_channel;
struct ast_endpoint;
struct ast_stream_topology;
struct ast_msg_data;
struct ast_cc_config_params;

typedef void (*ast_cc_callback_fn)(struct ast_channel *chan, struct ast_cc_config_params *cc_params,
	const char *monitor_type, const char * const device_name, const char * const dialstring, void *private_data);

enum ast_bridge_result {
	AST_BRIDGE_COMPLETE = 0,
	AST_BRIDGE_FAILED = -1,
	AST_BRIDGE_FAILED_NOWARN = -2,
	AST_BRIDGE_RETRY = -3,
};

enum ama_flags {
	AST_AMA_NONE = 0,
	AST_AMA_OMIT,
	AST_AMA_BILLING,
	AST_AMA_DOCUMENTATION,
};

/* Who a party of a call is: its name and number as the channel knows them. */
struct ast_party_name {
	char *str;
	int char_set;
	int presentation;
	unsigned char valid;
};

struct ast_party_number {
	char *str;
	int plan;
	int presentation;
	unsigned char valid;
};

struct ast_party_subaddress {
	char *str;
	int type;
	unsigned char odd_even_indicator;
	unsigned char valid;
};

struct ast_party_id {
	struct ast_party_name name;
	struct ast_party_number number;
	struct ast_party_subaddress subaddress;
	char *tag;
};

struct ast_party_caller {
	struct ast_party_id id;
	struct ast_party_id ani;
	struct ast_party_id priv;
	int ani2;
};

struct ast_party_connected_line {
	struct ast_party_id id;
	struct ast_party_id ani;
	struct ast_party_id priv;
	int ani2;
	int source;
};

struct ast_assigned_ids {
	const char *uniqueid;
	const char *uniqueid2;
};

/* A channel technology: every entry point Asterisk may call, in ABI order. */
struct ast_channel_tech {
	const char * const type;
	const char * const description;
	struct ast_format_cap *capabilities;
	int properties;
	struct ast_channel *(* const requester)(const char *type, struct ast_format_cap *cap,
		const struct ast_assigned_ids *assignedids, const struct ast_channel *requestor,
		const char *addr, int *cause);
	struct ast_channel *(* const requester_with_stream_topology)(const char *type,
		struct ast_stream_topology *topology, const struct ast_assigned_ids *assignedids,
		const struct ast_channel *requestor, const char *addr, int *cause);
	int (* const devicestate)(const char *device_number);
	int (* const presencestate)(const char *presence_provider, char **subtype, char **message);
	int (* const send_digit_begin)(struct ast_channel *chan, char digit);
	int (* const send_digit_end)(struct ast_channel *chan, char digit, unsigned int duration);
	int (* const call)(struct ast_channel *chan, const char *addr, int timeout);
	int (* const hangup)(struct ast_channel *chan);
	int (* const answer)(struct ast_channel *chan);
	int (* const answer_with_stream_topology)(struct ast_channel *chan, struct ast_stream_topology *topology);
	struct ast_frame * (* const read)(struct ast_channel *chan);
	struct ast_frame * (* const read_stream)(struct ast_channel *chan);
	int (* const write)(struct ast_channel *chan, struct ast_frame *frame);
	int (* const write_stream)(struct ast_channel *chan, int stream_num, struct ast_frame *frame);
	int (* const send_text)(struct ast_channel *chan, const char *text);
	int (* const send_image)(struct ast_channel *chan, struct ast_frame *frame);
	int (* const send_html)(struct ast_channel *chan, int subclass, const char *data, int len);
	struct ast_frame * (* const exception)(struct ast_channel *chan);
	enum ast_bridge_result (* const early_bridge)(struct ast_channel *c0, struct ast_channel *c1);
	int (* const indicate)(struct ast_channel *c, int condition, const void *data, size_t datalen);
	int (* const fixup)(struct ast_channel *oldchan, struct ast_channel *newchan);
	int (* const setoption)(struct ast_channel *chan, int option, void *data, int datalen);
	int (* const queryoption)(struct ast_channel *chan, int option, void *data, int *datalen);
	int (* const transfer)(struct ast_channel *chan, const char *newdest);
	int (* const write_video)(struct ast_channel *chan, struct ast_frame *frame);
	int (* const write_text)(struct ast_channel *chan, struct ast_frame *frame);
	int (* func_channel_read)(struct ast_channel *chan, const char *function, char *data, char *buf, size_t len);
	int (* func_channel_write)(struct ast_channel *chan, const char *function, char *data, const char *value);
	const char * (* get_pvt_uniqueid)(struct ast_channel *chan);
	int (* cc_callback)(struct ast_channel *inbound, const char *dest, ast_cc_callback_fn callback);
	int (*pre_call)(struct ast_channel *chan, const char *sub_args);
	int (* const send_text_data)(struct ast_channel *chan, struct ast_msg_data *data);
};

int ast_channel_register(const struct ast_channel_tech *tech);
void ast_channel_unregister(const struct ast_channel_tech *tech);
const struct ast_channel_tech *ast_get_channel_tech(const char *name);

struct ast_channel *__ast_channel_alloc(int needqueue, int state, const char *cid_num,
	const char *cid_name, const char *acctcode,
	const char *exten, const char *context, const struct ast_assigned_ids *assignedids,
	const struct ast_channel *requestor, enum ama_flags amaflag,
	struct ast_endpoint *endpoint,
	const char *file, int line, const char *function,
	const char *name_fmt, ...) __attribute__((format(printf, 15, 16)));

const char *ast_channel_name(const struct ast_channel *chan);
const char *ast_channel_uniqueid(const struct ast_channel *chan);
const char *ast_channel_linkedid(const struct ast_channel *chan);
const char *ast_channel_exten(const struct ast_channel *chan);
const char *ast_channel_context(const struct ast_channel *chan);
const char *ast_channel_language(const struct ast_channel *chan);
struct ast_party_caller *ast_channel_caller(struct ast_channel *chan);
struct ast_party_connected_line *ast_channel_connected(struct ast_channel *chan);
enum ast_channel_state ast_channel_state(const struct ast_channel *chan);
int ast_channel_fdno(const struct ast_channel *chan);
void ast_channel_set_fd(struct ast_channel *chan, int which, int fd);

void *ast_channel_tech_pvt(const struct ast_channel *chan);
void ast_channel_tech_pvt_set(struct ast_channel *chan, void *value);
void ast_channel_tech_set(struct ast_channel *chan, const struct ast_channel_tech *value);

void ast_channel_nativeformats_set(struct ast_channel *chan, struct ast_format_cap *value);
struct ast_format *ast_channel_readformat(struct ast_channel *chan);
struct ast_format *ast_channel_writeformat(struct ast_channel *chan);
void ast_channel_set_readformat(struct ast_channel *chan, struct ast_format *format);
void ast_channel_set_writeformat(struct ast_channel *chan, struct ast_format *format);
void ast_channel_set_rawreadformat(struct ast_channel *chan, struct ast_format *format);
void ast_channel_set_rawwriteformat(struct ast_channel *chan, struct ast_format *format);
int ast_set_read_format(struct ast_channel *chan, struct ast_format *format);
int ast_set_write_format(struct ast_channel *chan, struct ast_format *format);

/* Bits of the soft hangup flag. */
enum {
	AST_SOFTHANGUP_DEV = (1 << 0),
	AST_SOFTHANGUP_ASYNCGOTO = (1 << 1),
};
int ast_channel_softhangup_internal_flag(struct ast_channel *chan);

int ast_channel_hangupcause(const struct ast_channel *chan);
void ast_channel_hangupcause_set(struct ast_channel *chan, int value);
int ast_check_hangup(struct ast_channel *chan);
void ast_hangup(struct ast_channel *chan);

struct ast_channel *ast_waitfor_nandfds(struct ast_channel **c, int n,
	int *fds, int nfds, int *exception, int *outfd, int *ms);
struct ast_frame *ast_read(struct ast_channel *chan);
int ast_write(struct ast_channel *chan, struct ast_frame *frame);
int ast_senddigit_begin(struct ast_channel *chan, char digit);
struct ast_silence_generator;
struct ast_silence_generator *ast_channel_start_silence_generator(struct ast_channel *chan);
void ast_channel_stop_silence_generator(struct ast_channel *chan, struct ast_silence_generator *state);
int ast_senddigit_end(struct ast_channel *chan, char digit, unsigned int duration);

/* Every channel, one at a time, each with a reference the caller drops. */
struct ast_channel_iterator;
struct ast_channel_iterator *ast_channel_iterator_all_new(void);
struct ast_channel *ast_channel_iterator_next(struct ast_channel_iterator *i);
struct ast_channel_iterator *ast_channel_iterator_destroy(struct ast_channel_iterator *i);

#endif
