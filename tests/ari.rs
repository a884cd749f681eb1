//! ARI's externalMedia with encapsulation=audiosocket on a real Asterisk:
//! the channel's rate follows the requested format, its name carries the
//! UUID, and a tone bridged to it reaches the server.

mod common;

use std::time::Duration;

use common::ami;
use common::ari::{self, string_field, Ari};
use common::asterisk::Options;
use common::server::audio_of;
use common::{Asterisk, TestServer, UUID};

const S: Duration = Duration::from_secs(1);

/// Starts an Asterisk with ARI on a free port, or says why it cannot.
fn start(test: &str) -> Option<(Asterisk, Ari)> {
    let port = ami::free_port();
    let files = ari::files(port);
    let files: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let ast = Asterisk::start_with(
        test,
        Options {
            dialplan: common::FAR_ENDS,
            needs: ari::MODULES,
            files: &files,
            ..Options::default()
        },
    )?;
    let ari = Ari::connect(port, "bot");
    Some((ast, ari))
}

#[test]
fn external_media_streams_at_the_requested_rate_with_the_uuid_in_its_name() {
    let Some((ast, ari)) = start("ari_external_media") else {
        return;
    };
    for (format, kind, bytes) in [
        ("slin", 0x10, 320),
        ("slin16", 0x12, 640),
        ("slin48", 0x16, 1920),
        ("ulaw", 0x10, 320),
    ] {
        let srv = TestServer::new();
        let media = ari.ok(
            "POST",
            &format!(
                "channels/externalMedia?app=bot&external_host=127.0.0.1:{}&format={format}\
                 &encapsulation=audiosocket&transport=tcp&data={UUID}",
                srv.port
            ),
        );
        let media_id = string_field(&media, "id").expect("a channel id");
        let name = string_field(&media, "name").expect("a channel name");
        assert_eq!(name, format!("AudioSocket/127.0.0.1:{}-{UUID}", srv.port));
        let mut conn = srv.accept_call();
        let (tone_id, bridge_id) = ari.bridge_with_tone(&media_id);

        // Let the bridge settle, then listen for a second.
        conn.read_for(Duration::from_millis(500));
        let msgs = conn.read_for(S);
        let kinds: Vec<u8> = msgs.iter().map(|(_, m)| m.kind).collect();
        assert!(
            kinds.iter().all(|k| *k == kind),
            "{format}: only 0x{kind:02x}: {kinds:02x?}"
        );
        assert!(
            msgs.len() >= 40,
            "{format}: {} frames in a second",
            msgs.len()
        );
        assert!(
            msgs.iter().all(|(_, m)| m.payload.len() == bytes),
            "{format}: {bytes}-byte frames"
        );
        let peak = common::peak(&audio_of(&msgs, kind));
        assert!(
            peak > 1000,
            "{format}: the tone reaches the server (peak {peak})"
        );

        ari.ok("DELETE", &format!("channels/{tone_id}"));
        ari.ok("DELETE", &format!("channels/{media_id}"));
        ari.ok("DELETE", &format!("bridges/{bridge_id}"));
        assert!(
            conn.wait_closed(5 * S),
            "{format}: hanging up closes the socket"
        );
    }
    assert!(ast.wait_no_channels(10 * S));
}

/// ARI's own users flush a bot's queued audio through the channel-variable
/// call, on an externalMedia channel asked for with the barge-in option.
#[test]
fn external_media_with_barge_in_is_flushed_through_a_channel_variable() {
    let Some((ast, ari)) = start("ari_barge_in") else {
        return;
    };
    let srv = TestServer::new();
    let media = ari.ok(
        "POST",
        &format!(
            "channels/externalMedia?app=bot&external_host=127.0.0.1:{}&format=slin16\
             &encapsulation=audiosocket&transport=tcp&data={UUID}/b",
            srv.port
        ),
    );
    let media_id = string_field(&media, "id").expect("a channel id");
    let mut conn = srv.accept_call();
    let (tone_id, bridge_id) = ari.bridge_with_tone(&media_id);
    // A second and a half of 16 kHz audio from the bot, queued at once.
    conn.send_audio(0x12, &common::ramp(24000), 640);
    std::thread::sleep(Duration::from_millis(200));
    let var = |item: &str| format!("channels/{media_id}/variable?variable=AUDIOSOCKET%28{item}%29");
    let buffered = |ari: &Ari| -> u64 {
        let body = ari.ok("GET", &var("buffered_ms"));
        string_field(&body, "value").unwrap().parse().unwrap()
    };
    assert!(buffered(&ari) >= 800, "queued before the flush");
    let (status, body) = ari.request("POST", &format!("{}&value=1", var("flush")));
    assert_eq!(status, 204, "{body}");
    assert!(buffered(&ari) <= 40, "nothing queued after the flush");
    let body = ari.ok("GET", &var("status"));
    assert_eq!(string_field(&body, "value").as_deref(), Some("CONNECTED"));
    ari.tear_down(&[&tone_id, &media_id], &bridge_id);
    assert!(conn.wait_closed(5 * S));
    assert!(ast.wait_no_channels(10 * S));
}
