#ifndef ARS_ASTERISK_FRAME_H
#define ARS_ASTERISK_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>
#include "asterisk/format.h"

struct ast_stream_topology;

enum ast_frame_type {
	AST_FRAME_DTMF_END = 1,
	AST_FRAME_VOICE,
	AST_FRAME_VIDEO,
	AST_FRAME_CONTROL,
	AST_FRAME_NULL,
	AST_FRAME_IAX,
	AST_FRAME_TEXT,
	AST_FRAME_IMAGE,
	AST_FRAME_HTML,
	AST_FRAME_CNG,
	AST_FRAME_MODEM,
	AST_FRAME_DTMF_BEGIN,
	AST_FRAME_BRIDGE_ACTION,
	AST_FRAME_BRIDGE_ACTION_SYNC,
	AST_FRAME_RTCP,
	AST_FRAME_TEXT_DATA,
};

/* The control frames this module sends or recognises. */
enum ast_control_frame_type {
	AST_CONTROL_HANGUP = 1,
	AST_CONTROL_RING = 2,
	AST_CONTROL_RINGING = 3,
	AST_CONTROL_ANSWER = 4,
	AST_CONTROL_BUSY = 5,
	AST_CONTROL_CONGESTION = 8,
	AST_CONTROL_HOLD = 16,
	AST_CONTROL_UNHOLD = 17,
};

/* Bytes a writer should leave free before a frame's data for protocol headers. */
#define AST_FRIENDLY_OFFSET 64

struct ast_frame_subclass {
	int integer;
	union {
		struct ast_format *format;
		struct ast_stream_topology *topology;
	};
	unsigned int frame_ending;
};

struct ast_frame {
	enum ast_frame_type frametype;
	struct ast_frame_subclass subclass;
	int datalen;
	int samples;
	int mallocd;
	size_t mallocd_hdr_len;
	int offset;
	const char *src;
	union { void *ptr; uint32_t uint32; char pad[8]; } data;
	struct timeval delivery;
	struct { struct ast_frame *next; } frame_list;
	unsigned int flags;
	long ts;
	long len;
	int seqno;
	int stream_num;
};

extern struct ast_frame ast_null_frame;

void ast_frame_free(struct ast_frame *frame, int cache);

#endif
