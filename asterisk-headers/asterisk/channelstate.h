#ifndef ARS_ASTERISK_CHANNELSTATE_H
#define ARS_ASTERISK_CHANNELSTATE_H

struct ast_channel;

enum ast_channel_state {
	AST_STATE_DOWN,
	AST_STATE_RESERVED,
	AST_STATE_OFFHOOK,
	AST_STATE_DIALING,
	AST_STATE_RING,
	AST_STATE_RINGING,
	AST_STATE_UP,
	AST_STATE_BUSY,
	AST_STATE_DIALING_OFFHOOK,
	AST_STATE_PRERING,
	AST_STATE_MUTE = (1 << 16),
};

int ast_setstate(struct ast_channel *chan, enum ast_channel_state);

#endif
