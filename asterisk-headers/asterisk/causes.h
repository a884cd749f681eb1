#ifndef ARS_ASTERISK_CAUSES_H
#define ARS_ASTERISK_CAUSES_H

/* Q.850 hangup causes, as Asterisk numbers them. */
#define AST_CAUSE_NO_ROUTE_DESTINATION           3
#define AST_CAUSE_NORMAL_CLEARING               16
#define AST_CAUSE_DESTINATION_OUT_OF_ORDER      27
#define AST_CAUSE_INVALID_NUMBER_FORMAT         28
#define AST_CAUSE_NETWORK_OUT_OF_ORDER          38
#define AST_CAUSE_BEARERCAPABILITY_NOTAVAIL     58
#define AST_CAUSE_FAILURE                       AST_CAUSE_NETWORK_OUT_OF_ORDER

#endif
