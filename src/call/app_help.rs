//! What `core show application AudioSocket` says when Asterisk has no XML
//! page for it (doc/chan_audiosocket_rs-en_US.xml, installed beside
//! Asterisk's own): the same words as plain text. Macros, so that the
//! application joins them with its version at compile time.

/// One line: what the application does.
macro_rules! app_synopsis {
    () => {
        "Stream a call's audio and DTMF to an AudioSocket server over TCP."
    };
}

/// The syntax, the arguments and the variables set, as plain text.
macro_rules! app_description {
    () => {
        "AudioSocket(uuid,host:port[,options])

Connects to an AudioSocket server, sends the UUID message, then streams the
channel's audio (signed linear) and DTMF to the server while playing the
server's audio and DTMF to the channel, at real-time pace, until either side
hangs up. Answer the channel first if it is not up.

Arguments:
  uuid       Identifies the stream to the server: any standard UUID form.
  host:port  The server: a host name, an IPv4 address or [IPv6 address],
             then the port. Calls to a name take its addresses in turns;
             one that just failed is tried last for 15 s. Or over a
             WebSocket: ws://host[:port]/path?query, wss://..., or ws:NAME,
             a [NAME] profile of audiosocket.conf with type = websocket.
  options    Letters, some with a value in parentheses:
    c(codec)    Signed linear rate for both directions: slin (8 kHz, the
                default), slin12, slin16, slin24, slin32, slin44, slin48,
                slin96 or slin192. The channel's formats are restored after.
    t(seconds)  Connect timeout, fractions allowed (default 2).
    i(seconds)  End the call when neither side sent anything for this long
                (default: no inactivity timeout).
    b           Barge-in: the server may flush the audio not yet played
                (0x20), place marks (0x21) and ask when nothing is left to
                play (0x22); the module bounds what the server can write
                ahead. See AUDIOSOCKET() for the same controls from Asterisk.
    m           Call context: right after the UUID the server gets one JSON
                object (0x23) with the channel, uniqueid, linkedid, caller
                ID number and name, extension, context, language and
                rate; and it may set channel variables (0x24, NAME=value)
                that server_variables allows (BOT_* by default).
    m(V1^V2)    The same, with these channel variables in the JSON.
    p(dialect)  What the messages on a WebSocket say: audiosocket, or
                twilio (Twilio's Media Streams: the bot gets connected,
                start, media, dtmf, mark and stop; it may send media, mark
                and clear; audio is mulaw at 8 kHz).
    v(N1^P*)    The variables the server may set (names, and patterns with
                *), instead of server_variables in audiosocket.conf (BOT_*
                by default); turns 0x24 on without m. Never a variable
                Asterisk acts on (TRANSFER_CONTEXT, DIALSTATUS, ...).
    s           TLS (1.2 or 1.3) to the server, whose certificate must be
                valid for host and signed by a CA the system trusts
                (/etc/ssl/certs); or by the [general] tls profile of
                audiosocket.conf when it names one.
    s(profile)  TLS with the profile [profile] of audiosocket.conf: its own
                CA file, a client certificate for mutual TLS, a name to
                check instead of host.
    r           Resume: when the server is lost mid-call (reset, closed
                without a hangup message, silent past i()) or asks to be
                left (0x26, WebSocket close 1001 or 1012), connect again
                with the same UUID (the context says resumed and gap_ms)
                within resume_time (5 s); the caller hears resume_hold.
    r(seconds)  The same, within this long; r(0): never.

Channel variables set on return:
  AUDIOSOCKET_STATUS      How the session ended:
    SERVER_HANGUP      The server sent a hangup or closed the connection
                       (also with a reset).
    CHANNEL_HANGUP     The channel hung up.
    REDIRECTED         The channel was redirected elsewhere in the dialplan
                       (AMI Redirect, 'channel redirect').
    CONNECT_FAILED     No connection within the connect timeout, or the
                       TLS handshake failed (the log says why).
    SERVER_ERROR       The server sent an error message.
    PROTOCOL_ERROR     The server broke the framing.
    NETWORK_ERROR      The connection failed (timed out, unreachable).
    TIMEOUT            The i() inactivity timeout expired.
    SERVER_LOST        With r: the server was lost and no new connection
                       was made within resume_time or resume_attempts.
    INVALID_ARGUMENTS  The arguments above were wrong, or s() named no TLS
                       profile (nothing connected).
    INTERNAL_ERROR     The module failed; see the log.
  AUDIOSOCKET_ERROR_CODE  The code in the server's error message, as hex.
  AUDIOSOCKET_RESUMES     How many times the stream resumed (option r).

Returns 0, and the dialplan continues, unless the channel hung up or the
arguments were invalid (then -1). After a redirect the dialplan goes on
where the redirect pointed.

"
    };
}

pub(crate) use {app_description, app_synopsis};

#[cfg(test)]
mod tests {
    const PAGE: &str = include_str!("../../doc/chan_audiosocket_rs-en_US.xml");
    const TEXT: &str = super::app_description!();

    /// Every `<tag name="X"` in the XML page.
    fn names(tag: &str) -> Vec<String> {
        let open = format!("<{tag} name=\"");
        PAGE.split(&open)
            .skip(1)
            .map(|rest| rest[..rest.find('"').unwrap()].to_string())
            .collect()
    }

    /// The option letters the plain text lists (four spaces, then the
    /// letter alone or with its parentheses).
    fn described_options() -> Vec<String> {
        let mut letters: Vec<String> = TEXT
            .lines()
            .filter_map(|l| l.strip_prefix("    "))
            .filter_map(|l| {
                let mut chars = l.chars();
                let letter = chars.next().filter(char::is_ascii_lowercase)?;
                matches!(chars.next(), Some(' ' | '(')).then(|| letter.to_string())
            })
            .collect();
        letters.dedup();
        letters
    }

    #[test]
    fn the_xml_page_and_the_plain_text_say_the_same() {
        assert_eq!(names("option"), described_options());
        assert_eq!(names("option").len(), 9);
        let statuses = names("value");
        assert!(statuses.len() >= 11, "{statuses:?}");
        for status in &statuses {
            assert!(TEXT.contains(&format!("    {status} ")), "{status}");
        }
        let variables = names("variable");
        assert_eq!(variables.len(), 3);
        for variable in variables {
            assert!(TEXT.contains(&format!("  {variable} ")), "{variable}");
        }
        for parameter in names("parameter") {
            assert!(TEXT.contains(&format!("  {parameter} ")), "{parameter}");
        }
        assert!(PAGE.contains(super::app_synopsis!()));
        assert!(PAGE.contains(
            "<application name=\"AudioSocket\" language=\"en_US\" module=\"chan_audiosocket_rs\">"
        ));
    }
}
