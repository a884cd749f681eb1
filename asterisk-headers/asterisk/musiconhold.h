#ifndef ARS_ASTERISK_MUSICONHOLD_H
#define ARS_ASTERISK_MUSICONHOLD_H

struct ast_channel;

int ast_moh_start(struct ast_channel *chan, const char *mclass, const char *interpclass);
void ast_moh_stop(struct ast_channel *chan);

#endif
