//! Variables Asterisk, or this module, acts on or reports through: a server
//! never sets one of these, whatever `server_variables` or `v()` allow.
//! Each is listed with where Asterisk reads or sets it (22.10.1's sources),
//! so that the list can be checked and extended in one place; README shows
//! it.

/// Exact names, with the sources that read or set them.
pub const NAMES: &[(&str, &str)] = &[
    // How calls are routed and bridged: what a server could turn into a
    // transfer, a feature code or another trunk.
    ("BRIDGE_FEATURES", "main/features.c"),
    ("DYNAMIC_FEATURES", "main/features_config.c"),
    (
        "TRANSFER_CONTEXT",
        "main/bridge_basic.c, apps/app_attended_transfer.c, res/res_pjsip_refer.c",
    ),
    ("TRANSFER_EXTEN", "main/bridge_basic.c"),
    ("GET_TRANSFERRER_DATA", "res/res_pjsip_refer.c"),
    (
        "FORWARD_CONTEXT",
        "apps/app_dial.c, apps/app_queue.c, main/dial.c, main/channel.c",
    ),
    ("OUTBOUND_GROUP", "apps/app_dial.c"),
    ("OUTBOUND_GROUP_ONCE", "apps/app_dial.c"),
    ("EXITCONTEXT", "apps/app_dial.c"),
    ("BRIDGE_NOANSWER", "main/bridge.c, main/features.c"),
    ("BRIDGE_PLAY_SOUND", "main/bridge.c"),
    ("BRIDGEPEER", "main/bridge.c, funcs/func_channel.c"),
    ("BLINDTRANSFER", "apps/app_queue.c, res/parking"),
    ("ATTENDEDTRANSFER", "apps/app_queue.c, res/parking"),
    ("PARKINGEXTEN", "res/parking/parking_bridge.c"),
    ("PARKINGLOT", "res/res_parking.c"),
    ("PARKINGDYNAMIC", "res/res_parking.c"),
    ("PARKINGDYNCONTEXT", "res/res_parking.c"),
    ("PARKINGDYNEXTEN", "res/res_parking.c"),
    ("PARKINGDYNPOS", "res/res_parking.c"),
    ("LIMIT_CONNECT_FILE", "main/features.c"),
    ("LIMIT_PLAYAUDIO_CALLEE", "main/features.c"),
    ("LIMIT_PLAYAUDIO_CALLER", "main/features.c"),
    ("LIMIT_TIMEOUT_FILE", "main/features.c"),
    ("LIMIT_WARNING_FILE", "main/features.c"),
    ("CONNECTED_LINE_SEND_SUB", "main/channel.c"),
    ("CONNECTED_LINE_SEND_SUB_ARGS", "main/channel.c"),
    ("REDIRECTING_SEND_SUB", "main/channel.c"),
    ("REDIRECTING_SEND_SUB_ARGS", "main/channel.c"),
    ("GOSUB_RETVAL", "apps/app_stack.c, apps/app_dial.c"),
    ("GOSUB_RESULT", "apps/app_dial.c"),
    ("GROUP", "apps/app_chanspy.c"),
    ("SPYGROUP", "apps/app_chanspy.c"),
    ("SPY_EXIT_CONTEXT", "apps/app_chanspy.c"),
    ("DUNDIDIALARGS", "pbx/pbx_dundi.c"),
    ("SIPFROMDOMAIN", "res/res_pjsip_session.c"),
    ("SIPREFERREDBYHDR", "channels/chan_pjsip.c"),
    ("SAY_DTMF_INTERRUPT", "main/pbx_builtins.c"),
    ("TESTTIME", "main/pbx_builtins.c"),
    ("AGIEXECFULL", "res/res_agi.c"),
    ("AGIEXITONHANGUP", "res/res_agi.c"),
    ("AGISIGHUP", "res/res_agi.c"),
    ("EAGI_AUDIO_FORMAT", "res/res_agi.c"),
    ("MONITOR_EXEC", "apps/app_queue.c"),
    ("MONITOR_FILENAME", "apps/app_queue.c"),
    ("MONITOR_OPTIONS", "apps/app_queue.c"),
    ("QUEUE_MAX_PENALTY", "apps/app_queue.c"),
    ("QUEUE_MIN_PENALTY", "apps/app_queue.c"),
    ("QUEUE_PRIO", "apps/app_queue.c"),
    ("QUEUE_RAISE_PENALTY", "apps/app_queue.c"),
    ("QUEUEWAIT", "apps/app_queue.c"),
    ("AGENTACCEPTDTMF", "apps/app_agent_pool.c"),
    ("AGENTACKCALL", "apps/app_agent_pool.c"),
    ("AGENTAUTOLOGOFF", "apps/app_agent_pool.c"),
    ("AGENTWRAPUPTIME", "apps/app_agent_pool.c"),
    ("SENDTEXT_BODY", "apps/app_sendtext.c"),
    ("SENDTEXT_CONTENT_TYPE", "apps/app_sendtext.c"),
    ("SENDTEXT_FROM_DISPLAYNAME", "apps/app_sendtext.c"),
    ("SENDTEXT_TO_DISPLAYNAME", "apps/app_sendtext.c"),
    ("SPEECH_DTMF_MAXLEN", "apps/app_speech_utils.c"),
    ("SPEECH_DTMF_TERMINATOR", "apps/app_speech_utils.c"),
    ("VM_CATEGORY", "apps/app_voicemail.c"),
    ("CONF_LIMIT_TIMEOUT_FILE", "apps/app_meetme.c"),
    ("CONF_LIMIT_WARNING_FILE", "apps/app_meetme.c"),
    ("ALARMRECEIVER_CALL_LIMIT", "apps/app_alarmreceiver.c"),
    ("ALARMRECEIVER_RETRIES_LIMIT", "apps/app_alarmreceiver.c"),
    ("FAXBITRATE", "res/res_fax.c"),
    ("FAXPAGES", "res/res_fax.c"),
    ("FAXRESOLUTION", "res/res_fax.c"),
    ("LOCALHEADERINFO", "res/res_fax.c"),
    ("LOCALSTATIONID", "res/res_fax.c"),
    ("REMOTESTATIONID", "res/res_fax.c"),
    ("IAX2OSPTOKEN", "channels/chan_iax2.c"),
    ("USERUSERINFO", "channels/sig_pri.c"),
    ("PRI_CAUSE", "channels/sig_pri.c"),
    ("CALL_QUALIFIER", "channels/sig_analog.c"),
    ("CALLWAITDELUXEANNOUNCEMENT", "channels/sig_analog.c"),
    ("FEATDMF_CIC", "channels/sig_analog.c"),
    ("FEATDMF_OZZ", "channels/sig_analog.c"),
    // What applications report, which the dialplan branches on: a server
    // must not forge a call's outcome.
    ("DIALSTATUS", "apps/app_dial.c, main/pbx.c"),
    ("DIALEDPEERNUMBER", "apps/app_dial.c"),
    ("DIALEDTIME", "apps/app_dial.c, apps/app_queue.c"),
    ("ANSWEREDTIME", "apps/app_dial.c, apps/app_queue.c"),
    ("HANGUPCAUSE", "main/channel.c"),
    ("QUEUESTATUS", "apps/app_queue.c"),
    ("AQMSTATUS", "apps/app_queue.c"),
    ("PQMSTATUS", "apps/app_queue.c"),
    ("RQMSTATUS", "apps/app_queue.c"),
    ("UPQMSTATUS", "apps/app_queue.c"),
    ("AGENT_STATUS", "apps/app_agent_pool.c"),
    ("AGISTATUS", "res/res_agi.c"),
    ("AMDSTATUS", "apps/app_amd.c"),
    ("AMDCAUSE", "apps/app_amd.c"),
    ("ATTENDEDTRANSFERSTATUS", "apps/app_attended_transfer.c"),
    ("BLINDTRANSFERSTATUS", "apps/app_blind_transfer.c"),
    ("TRANSFERSTATUS", "apps/app_transfer.c"),
    ("AVAILSTATUS", "apps/app_chanisavail.c"),
    ("BACKGROUNDSTATUS", "main/pbx_builtins.c"),
    ("BRIDGERESULT", "apps/app_bridgeaddchan.c, main/features.c"),
    ("CHANLOCALSTATUS", "main/core_unreal.c"),
    ("CHANNELREDIRECT_STATUS", "apps/app_channelredirect.c"),
    ("CONFBRIDGE_RESULT", "apps/app_confbridge.c"),
    ("CPLAYBACKSTATUS", "apps/app_controlplayback.c"),
    ("DB_RESULT", "funcs/func_db.c"),
    ("DIRECTORY_RESULT", "apps/app_directory.c"),
    ("FAXSTATUS", "res/res_fax.c"),
    ("MESSAGE_SEND_STATUS", "main/message.c"),
    ("ODBCSTATUS", "funcs/func_odbc.c"),
    ("ORIGINATE_STATUS", "apps/app_originate.c"),
    ("PLAYBACKSTATUS", "apps/app_playback.c"),
    ("PRIVACYMGRSTATUS", "apps/app_privacy.c"),
    ("READEXTENSTATUS", "apps/app_readexten.c"),
    ("READSTATUS", "apps/app_read.c"),
    ("RECORD_STATUS", "apps/app_record.c"),
    ("SENDTEXTSTATUS", "apps/app_sendtext.c"),
    ("STASISSTATUS", "apps/app_stasis.c"),
    ("SYSTEMSTATUS", "apps/app_system.c"),
    ("TRYSTATUS", "apps/app_exec.c"),
    ("VMSTATUS", "apps/app_voicemail.c"),
    ("WAITDIGITRESULT", "main/pbx_builtins.c"),
    ("WAITDIGITSTATUS", "main/pbx_builtins.c"),
    ("WAITSTATUS", "apps/app_waitforsilence.c"),
    ("WAITUNTILSTATUS", "apps/app_waituntil.c"),
    // The channel's own names, which Asterisk answers itself.
    ("CALLERID", "main/pbx_variables.c"),
    ("CHANNEL", "main/pbx_variables.c"),
    ("CONTEXT", "main/pbx_variables.c"),
    ("EXTEN", "main/pbx_variables.c"),
    ("PRIORITY", "main/pbx_variables.c"),
    ("UNIQUEID", "main/pbx_variables.c"),
    ("LANGUAGE", "main/pbx_variables.c"),
    ("HINT", "main/pbx_variables.c"),
    ("HINTNAME", "main/pbx_variables.c"),
];

/// Families of names, by prefix.
pub const PREFIXES: &[(&str, &str)] = &[
    (
        "AUDIOSOCKET_",
        "this module (AUDIOSOCKET_STATUS, AUDIOSOCKET_ERROR_CODE, ...)",
    ),
    ("MACRO_", "apps/app_macro.c (Asterisk 20)"),
    ("SIPADDHEADER", "channels/chan_sip.c (Asterisk 20)"),
    ("SS7_", "channels/sig_ss7.c"),
    ("MFCR2_", "channels/chan_dahdi.c"),
    ("MEETME_", "apps/app_meetme.c"),
    ("MVM_", "apps/app_minivm.c"),
    ("MORSE", "apps/app_morsecode.c"),
    ("SLA", "apps/app_sla.c"),
];

/// Why `name` (uppercase) is reserved, if it is: the source that acts on it.
pub fn reserved(name: &str) -> Option<&'static str> {
    let upper = name.to_ascii_uppercase();
    if let Some((_, source)) = NAMES.iter().find(|(n, _)| *n == upper) {
        return Some(source);
    }
    // Gosub's arguments: ARG1, ARG2, ...
    if upper.len() > 3 && upper.starts_with("ARG") && upper[3..].bytes().all(|b| b.is_ascii_digit())
    {
        return Some("apps/app_stack.c (Gosub's arguments)");
    }
    PREFIXES
        .iter()
        .find(|(p, _)| upper.starts_with(p))
        .map(|(_, source)| *source)
}
