//! The readers: lenient about form (prefixes, namespaces, order, comments, CDATA, references,
//! extensions), strict about what a command needs, and typed errors for everything else.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code

use plenum_c3p::roster::{ConferenceInfo, EndpointStatus, MediaStatus};
use plenum_c3p::{
    AdmissionPolicy, Answer, Command, CommandName, ConferenceKey, Diagnostic, FailureReason,
    McuType, Outcome, ParseError, Request, RequestError, Response, ResponseCommand,
};

const FOCUS: &str = "sip:alice@example.com;gruu;opaque=app:conf:focus:id:TPDD8VYG";

fn request(doc: &str) -> Request {
    Request::parse(doc.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{doc}"))
}

fn add_conference(doc: &str) -> plenum_c3p::Conference {
    match request(doc).command {
        Command::AddConference(c) => c,
        other => panic!("not addConference: {other:?}"),
    }
}

#[test]
fn other_prefixes_everywhere() {
    let doc = r#"<c3p:request xmlns:c3p="urn:ietf:params:xml:ns:cccp" requestId="5"
        from="sip:alice@example.com" to="sip:alice@example.com;gruu;opaque=app:conf:focusfactory">
      <c3p:addConference>
        <rfc:conference-info xmlns:rfc="urn:ietf:params:xml:ns:conference-info" entity="">
          <rfc:conference-description>
            <rfc:subject>Prefixed</rfc:subject>
            <ms:conference-id xmlns:ms="http://schemas.microsoft.com/rtc/2005/08/confinfoextensions">ABCD1234</ms:conference-id>
          </rfc:conference-description>
        </rfc:conference-info>
      </c3p:addConference>
    </c3p:request>"#;
    let r = request(doc);
    assert_eq!(r.request_id, 5);
    assert_eq!(r.c3p_version, None);
    let Command::AddConference(c) = r.command else {
        panic!()
    };
    assert_eq!(c.subject.as_deref(), Some("Prefixed"));
    assert_eq!(c.conference_id.as_deref(), Some("ABCD1234"));
}

#[test]
fn default_namespace_on_children() {
    let doc = r#"<request xmlns="urn:ietf:params:xml:ns:cccp" requestId="6" from="sip:a@x" to="sip:a@x;gruu;opaque=app:conf:focusfactory">
      <addConference>
        <conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="">
          <conference-description>
            <subject>Default ns</subject>
            <conference-id xmlns="http://schemas.microsoft.com/rtc/2005/08/confinfoextensions">ABCD1234</conference-id>
          </conference-description>
          <conference-state><locked>true</locked></conference-state>
        </conference-info>
      </addConference>
    </request>"#;
    let c = add_conference(doc);
    assert_eq!(c.subject.as_deref(), Some("Default ns"));
    assert_eq!(c.conference_id.as_deref(), Some("ABCD1234"));
    assert_eq!(c.locked, Some(true));
}

#[test]
fn conference_info_without_its_namespace() {
    // A client that forgot the ci prefix: the elements fall into the C3P default namespace.
    let doc = r#"<request xmlns="urn:ietf:params:xml:ns:cccp" xmlns:msci="http://schemas.microsoft.com/rtc/2005/08/confinfoextensions" requestId="7" from="sip:a@x" to="sip:f@x">
      <addConference><conference-info entity=""><conference-description>
        <subject>No ci</subject><msci:admission-policy>closedAuthenticated</msci:admission-policy>
      </conference-description></conference-info></addConference></request>"#;
    let c = add_conference(doc);
    assert_eq!(c.subject.as_deref(), Some("No ci"));
    assert_eq!(
        c.admission_policy,
        Some(AdmissionPolicy::ClosedAuthenticated)
    );
}

#[test]
fn unknown_extensions_with_nested_content_are_ignored() {
    let doc = r#"<?xml version="1.0" encoding="utf-8"?>
    <request xmlns="urn:ietf:params:xml:ns:cccp" xmlns:x="urn:example:unknown"
             xmlns:msci="http://schemas.microsoft.com/rtc/2005/08/confinfoextensions"
             xmlns:msci2="http://schemas.microsoft.com/rtc/2008/12/confinfoextensions"
             xmlns:cis="urn:ietf:params:xml:ns:conference-info-separator"
             xmlns:ci="urn:ietf:params:xml:ns:conference-info"
             x:flavour="strange" requestId="8" from="sip:a@x" to="sip:f@x">
      <x:preamble><x:deep><x:deeper a="1">text<request/></x:deeper></x:deep></x:preamble>
      <addConference x:hint="ignored" mscp:mcuUri="sip:mcu" xmlns:mscp="http://schemas.microsoft.com/rtc/2005/08/cccpextensions">
        <x:before-info><addConference/></x:before-info>
        <ci:conference-info entity="" x:extra="1">
          <ci:conference-description>
            <ci:subject>Extended</ci:subject>
            <ci:free-text>not needed</ci:free-text>
            <cis:separator/>
            <msci:unknown-setting><msci:nested><msci:conference-id>WRONG000</msci:conference-id></msci:nested></msci:unknown-setting>
            <msci2:lobby-capable>true</msci2:lobby-capable>
            <msci:conference-id>RIGHT123</msci:conference-id>
            <x:conference-id>ALSOWRONG</x:conference-id>
          </ci:conference-description>
          <x:trailer><ci:conference-state><ci:locked>true</ci:locked></ci:conference-state></x:trailer>
        </ci:conference-info>
      </addConference>
      <x:postscript/>
    </request>"#;
    let c = add_conference(doc);
    assert_eq!(c.subject.as_deref(), Some("Extended"));
    assert_eq!(c.conference_id.as_deref(), Some("RIGHT123"));
    assert_eq!(
        c.locked, None,
        "conference-state inside an extension is not ours"
    );
}

#[test]
fn attributes_in_any_order_and_microsoft_style_layout() {
    // Layout of the getAvailableMcuTypes example in MS-CONFBAS: xmlns last, CRLF lines.
    let doc = "<request C3PVersion=\"1\"\r\n         requestId=\"7\" \r\n         to=\"sip:alice@contoso.com;gruu;opaque=app:conf:focusfactory\"\r\n         from=\"sip:alice@contoso.com\"\r\n         xmlns=\"urn:ietf:params:xml:ns:cccp\">\r\n  <getAvailableMcuTypes/>\r\n</request>\r\n";
    let r = request(doc);
    assert_eq!(r.request_id, 7);
    assert_eq!(r.from, "sip:alice@contoso.com");
    assert_eq!(r.c3p_version.as_deref(), Some("1"));
    assert_eq!(r.command, Command::GetAvailableMcuTypes);

    let response = "<response C3PVersion=\"1\" requestId=\"7\" code=\"success\" to=\"sip:alice@contoso.com\"\r\n from=\"sip:alice@contoso.com;gruu;opaque=app:conf:focusfactory\" xmlns=\"urn:ietf:params:xml:ns:cccp\">\r\n <getAvailableMcuTypes>\r\n <mcu-types>\r\n <mcuType>audio-video</mcuType>\r\n <mcuType>chat</mcuType>\r\n <mcuType>meeting</mcuType>\r\n <mcuType>phone-conf</mcuType>\r\n </mcu-types>\r\n </getAvailableMcuTypes>\r\n </response>";
    let r = Response::parse(response.as_bytes()).unwrap();
    assert_eq!(
        r.outcome,
        Outcome::Success(ResponseCommand::GetAvailableMcuTypes(vec![
            McuType::AudioVideo,
            McuType::Chat,
            McuType::Meeting,
            McuType::PhoneConf,
        ]))
    );
}

#[test]
fn comments_cdata_references_bom_crlf() {
    let doc = "\u{feff}<!-- leading comment --><?some-pi data?>\r\n<request xmlns=\"urn:ietf:params:xml:ns:cccp\" xmlns:ci=\"urn:ietf:params:xml:ns:conference-info\" xmlns:msci=\"http://schemas.microsoft.com/rtc/2005/08/confinfoextensions\"\r\n requestId=\" 9 \" from=\"sip:o&apos;brien@example.com\" to=\"sip:f@x\">\r\n<!-- between -->\r\n<addConference><!-- c --><ci:conference-info entity=\"\"><ci:conference-description>\r\n<ci:subject><![CDATA[Q&A <Budget>]]> &amp; &#x41;&#66; caf&#233;</ci:subject>\r\n<msci:expiry-time>2026-11-24T19:00:00.123+01:00</msci:expiry-time>\r\n</ci:conference-description></ci:conference-info></addConference>\r\n</request><!-- trailing -->\r\n";
    let r = request(doc);
    assert_eq!(r.request_id, 9);
    assert_eq!(r.from, "sip:o'brien@example.com");
    let Command::AddConference(c) = r.command else {
        panic!()
    };
    assert_eq!(c.subject.as_deref(), Some("Q&A <Budget> & AB café"));
    assert_eq!(c.expiry_time, Some(1_795_543_200));
}

#[test]
fn sipe_shaped_add_conference() {
    // The shape pidgin-sipe sends (reference/c3p.md S10): declaration without encoding, `to`
    // before `from`, an empty subject, a 32-hex conference ID, only a chat entity-view.
    let doc = concat!(
        "<?xml version=\"1.0\"?>",
        "<request xmlns=\"urn:ietf:params:xml:ns:cccp\" ",
        "xmlns:mscp=\"http://schemas.microsoft.com/rtc/2005/08/cccpextensions\" ",
        "C3PVersion=\"1\" to=\"sip:bob@example.org;gruu;opaque=app:conf:focusfactory\" ",
        "from=\"sip:bob@example.org\" requestId=\"1094520\">",
        "<addConference>",
        "<ci:conference-info xmlns:ci=\"urn:ietf:params:xml:ns:conference-info\" entity=\"\" ",
        "xmlns:msci=\"http://schemas.microsoft.com/rtc/2005/08/confinfoextensions\">",
        "<ci:conference-description><ci:subject/>",
        "<msci:conference-id>0A1B2C3D4E5F60718293A4B5C6D7E8F9</msci:conference-id>",
        "<msci:expiry-time>2026-11-24T18:00:00Z</msci:expiry-time>",
        "<msci:admission-policy>openAuthenticated</msci:admission-policy>",
        "</ci:conference-description>",
        "<msci:conference-view><msci:entity-view entity=\"chat\"/></msci:conference-view>",
        "</ci:conference-info></addConference></request>"
    );
    let r = request(doc);
    assert_eq!(r.request_id, 1_094_520);
    let Command::AddConference(c) = r.command else {
        panic!()
    };
    assert_eq!(c.subject.as_deref(), Some(""));
    assert_eq!(c.pstn_access, None, "no dial-in asked");
    assert_eq!(c.entity_views, vec!["chat".to_owned()]);
    assert_eq!(c.admission_policy, Some(AdmissionPolicy::OpenAuthenticated));
}

#[test]
fn empty_pstn_access_asks_for_dial_in() {
    let doc = r#"<request xmlns="urn:ietf:params:xml:ns:cccp" requestId="1" from="sip:a@x" to="sip:f@x"><addConference>
      <conference-info xmlns="urn:ietf:params:xml:ns:conference-info" xmlns:msci="http://schemas.microsoft.com/rtc/2005/08/confinfoextensions" entity="">
      <conference-description><msci:pstn-access/></conference-description></conference-info></addConference></request>"#;
    let c = add_conference(doc);
    assert_eq!(c.pstn_access, Some(plenum_c3p::PstnAccess::default()));
}

#[test]
fn get_conference_keys_and_ignored_encryption_key() {
    let by_id = r#"<request xmlns="urn:ietf:params:xml:ns:cccp" xmlns:msci="http://schemas.microsoft.com/rtc/2005/08/confinfoextensions" requestId="2" from="sip:a@x" to="sip:f@x">
      <getConference><conferenceKeys msci:conference-id="ABCD1234"/>
      <msci:encryption-key><msci:x509-certificate>MIIB…</msci:x509-certificate></msci:encryption-key></getConference></request>"#;
    assert_eq!(
        request(by_id).command,
        Command::GetConference(ConferenceKey::ConferenceId("ABCD1234".into()))
    );
    let both = format!(
        r#"<request xmlns="urn:ietf:params:xml:ns:cccp" requestId="2" from="sip:a@x" to="sip:f@x"><deleteConference><conferenceKeys conference-id="ABCD1234" confEntity="{FOCUS}"/></deleteConference></request>"#
    );
    assert_eq!(
        request(&both).command,
        Command::DeleteConference(ConferenceKey::Entity(FOCUS.into()))
    );
}

#[test]
fn lenient_response_reading() {
    // Unknown reason → otherFailure; reason on the root is not where it belongs, but harmless.
    let doc = r#"<response xmlns="urn:ietf:params:xml:ns:cccp" requestId="3" from="sip:f@x" to="sip:a@x" code="failure" reason="x">
      <addConference reason="somethingNew"/></response>"#;
    let r = Response::parse(doc.as_bytes()).unwrap();
    assert_eq!(
        r.outcome,
        Outcome::Failure {
            command: CommandName::AddConference,
            reason: FailureReason::OtherFailure
        }
    );
    // office.12 style: the URI only on <addConference entity>.
    let doc = format!(
        r#"<response xmlns="urn:ietf:params:xml:ns:cccp" requestId="3" from="sip:f@x" to="sip:a@x" code="success"><addConference entity="{FOCUS}"/></response>"#
    );
    let Outcome::Success(ResponseCommand::AddConference(c)) =
        Response::parse(doc.as_bytes()).unwrap().outcome
    else {
        panic!()
    };
    assert_eq!(c.entity, FOCUS);
    // Capabilities with the element forms SIPE reads and no attributes.
    let doc = r#"<response xmlns="urn:ietf:params:xml:ns:cccp" requestId="4" from="sip:f@x" to="sip:a@x" code="success">
      <getConferencingCapabilities><mcu-types><mcuType>audio-video</mcuType></mcu-types><anonymous-scheduling/>
      <pstn-bridging><access-numbers><region name="EU"><access-number><number>+4930555010</number></access-number></region>
      <default-region>EU</default-region></access-numbers></pstn-bridging></getConferencingCapabilities></response>"#;
    let Outcome::Success(ResponseCommand::GetConferencingCapabilities(caps)) =
        Response::parse(doc.as_bytes()).unwrap().outcome
    else {
        panic!()
    };
    assert!(caps.anonymous_scheduling);
    assert!(caps.pstn_bridging.enabled);
    assert_eq!(caps.pstn_bridging.default_region.as_deref(), Some("EU"));
    assert_eq!(
        caps.pstn_bridging.regions[0].access_numbers[0].number,
        "+4930555010"
    );
    assert_eq!(caps.scheduling, None);
}

#[test]
fn lenient_roster_reading() {
    let doc = r#"<ci:conference-info xmlns:ci="urn:ietf:params:xml:ns:conference-info"
        xmlns:msci="http://schemas.microsoft.com/rtc/2005/08/confinfoextensions"
        version="7" entity="sip:focus" state="partial">
      <ci:users>
        <ci:user entity="sip:bob@x">
          <ci:roles><ci:entry>attendee</ci:entry></ci:roles>
          <ci:endpoint entity="{E1}" session-type="audio-video">
            <ci:status>connect-fail</ci:status>
            <ci:media id="3"><ci:type>audio</ci:type><ci:status>recvonly</ci:status>
              <msci:media-ingress-filter>block</msci:media-ingress-filter></ci:media>
          </ci:endpoint>
          <ci:endpoint entity="{E2}"><ci:status>on-hold</ci:status></ci:endpoint>
        </ci:user>
        <ci:user entity="sip:gone@x" state="deleted"/>
      </ci:users>
      <msci:conference-view><msci:entity-view entity="x"/></msci:conference-view>
    </ci:conference-info>"#;
    let r = ConferenceInfo::parse(doc.as_bytes()).unwrap();
    assert_eq!(r.version, 7);
    assert_eq!(r.users.len(), 2);
    let bob = &r.users[0];
    assert_eq!(bob.endpoints[0].status, None, "non-RFC status ignored");
    assert_eq!(
        bob.endpoints[0].media[0].status,
        Some(MediaStatus::RecvOnly)
    );
    assert_eq!(bob.endpoints[1].status, Some(EndpointStatus::OnHold));
    assert_eq!(r.users[1].state, plenum_c3p::roster::ElementState::Deleted);
}

// ---- typed errors ----

fn err(doc: &[u8]) -> RequestError {
    match Request::parse(doc) {
        Ok(r) => panic!("parsed: {r:?}"),
        Err(e) => e,
    }
}

fn malformed(doc: &[u8]) -> ParseError {
    match err(doc) {
        RequestError::Malformed(e) => e,
        other => panic!("not malformed: {other:?}"),
    }
}

const HEAD: &str = r#"<request xmlns="urn:ietf:params:xml:ns:cccp" xmlns:msci="http://schemas.microsoft.com/rtc/2005/08/confinfoextensions" requestId="11" from="sip:a@x" to="sip:f@x">"#;

fn wrapped(body: &str) -> Vec<u8> {
    format!("{HEAD}{body}</request>").into_bytes()
}

#[test]
fn unknown_command_is_3004() {
    let doc = wrapped(r#"<addUser><conferenceKeys confEntity="sip:focus"/></addUser>"#);
    let e = err(&doc);
    let RequestError::UnknownCommand { envelope, name } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(name, "addUser");
    assert_eq!(envelope.request_id, 11);
    assert_eq!(e.answer(), Answer::Sip(Diagnostic::CommandNotImplemented));
    assert_eq!(Diagnostic::CommandNotImplemented.code(), 3004);
    assert_eq!(
        Diagnostic::CommandNotImplemented.header_name(),
        "ms-diagnostics-public"
    );
}

#[test]
fn invalid_content_is_a_c3p_failure_with_its_reason() {
    let cases = [
        (
            "<addConference><conference-info xmlns='urn:ietf:params:xml:ns:conference-info' entity=''><conference-description><msci:admission-policy>public</msci:admission-policy></conference-description></conference-info></addConference>",
            FailureReason::InvalidAdmissionPolicy,
        ),
        (
            "<addConference><conference-info xmlns='urn:ietf:params:xml:ns:conference-info' entity=''><conference-description><msci:expiry-time>tomorrow</msci:expiry-time></conference-description></conference-info></addConference>",
            FailureReason::InvalidExpiryTime,
        ),
        (
            "<addConference><conference-info xmlns='urn:ietf:params:xml:ns:conference-info' entity=''><conference-description><msci:autopromote>-1</msci:autopromote></conference-description></conference-info></addConference>",
            FailureReason::InvalidAutomaticPromoteValue,
        ),
        ("<addConference/>", FailureReason::RequestMalformed),
        (
            "<modifyConference><conference-info xmlns='urn:ietf:params:xml:ns:conference-info' entity='' version='1'/></modifyConference>",
            FailureReason::RequestMalformed,
        ),
        (
            "<modifyConference><conference-info xmlns='urn:ietf:params:xml:ns:conference-info' entity='sip:focus' version='v1'/></modifyConference>",
            FailureReason::InvalidVersion,
        ),
        ("<getConference/>", FailureReason::RequestMalformed),
        (
            "<deleteConference><conferenceKeys confEntity=' '/></deleteConference>",
            FailureReason::RequestMalformed,
        ),
        (
            "<getConferences static='maybe'/>",
            FailureReason::RequestMalformed,
        ),
    ];
    for (body, expected) in cases {
        let e = err(&wrapped(body));
        let RequestError::Invalid { reason, .. } = &e else {
            panic!("{body}: {e:?}")
        };
        assert_eq!(*reason, expected, "{body}");
        let Answer::C3p(response) = e.answer() else {
            panic!("{body}")
        };
        let xml = response.to_xml();
        assert!(xml.contains(&format!("reason=\"{expected}\"")), "{xml}");
        assert!(xml.contains("code=\"failure\""));
        assert!(
            xml.contains("from=\"sip:f@x\" to=\"sip:a@x\""),
            "swapped: {xml}"
        );
    }
}

#[test]
fn malformed_envelopes() {
    let ok_root = |attrs: &str| {
        format!(
            r#"<request xmlns="urn:ietf:params:xml:ns:cccp" {attrs}><getConferencingCapabilities/></request>"#
        )
    };
    assert_eq!(
        malformed(ok_root(r#"from="sip:a@x" to="sip:f@x""#).as_bytes()),
        ParseError::MissingAttribute { name: "requestId" }
    );
    assert_eq!(
        malformed(ok_root(r#"requestId="-1" from="sip:a@x" to="sip:f@x""#).as_bytes()),
        ParseError::InvalidAttribute { name: "requestId" }
    );
    assert_eq!(
        malformed(ok_root(r#"requestId="99999999999999999999" from="a" to="b""#).as_bytes()),
        ParseError::InvalidAttribute { name: "requestId" }
    );
    let no_from = err(ok_root(r#"requestId="1" from="" to="sip:f@x""#).as_bytes());
    assert_eq!(no_from.answer(), Answer::Sip(Diagnostic::BadFrom));
    let no_to = err(ok_root(r#"requestId="1" from="sip:a@x""#).as_bytes());
    assert_eq!(no_to.answer(), Answer::Sip(Diagnostic::BadTo));
    // A `from` in another namespace is not the `from` attribute.
    let ns_from = ok_root(r#"xmlns:p="urn:x" requestId="1" p:from="sip:a@x" to="sip:f@x""#);
    assert_eq!(
        malformed(ns_from.as_bytes()),
        ParseError::MissingAttribute { name: "from" }
    );
}

#[test]
fn malformed_structure() {
    let wrong_root = br#"<response xmlns="urn:ietf:params:xml:ns:cccp" requestId="1" from="a" to="b" code="success"><getConferencingCapabilities/></response>"#;
    assert!(matches!(
        malformed(wrong_root),
        ParseError::WrongRoot {
            expected: "request",
            ..
        }
    ));
    let wrong_ns = br#"<request xmlns="urn:example" requestId="1" from="a" to="b"><getConferencingCapabilities/></request>"#;
    assert!(matches!(malformed(wrong_ns), ParseError::WrongRoot { .. }));
    assert_eq!(
        malformed(&wrapped(
            "<getConferencingCapabilities/><getAvailableMcuTypes/>"
        )),
        ParseError::MultipleCommands
    );
    assert_eq!(
        malformed(&wrapped("<!-- nothing --><x:y xmlns:x='urn:x'/>")),
        ParseError::NoCommand
    );
    let answer = err(&wrapped("")).answer();
    assert_eq!(answer, Answer::Sip(Diagnostic::ParseFailure));
    assert_eq!(Diagnostic::ParseFailure.code(), 3006);
}

#[test]
fn malformed_bytes() {
    let golden = include_bytes!("golden/add_conference.request.xml");
    assert_eq!(malformed(b""), ParseError::Empty);
    assert_eq!(malformed(b"  \n "), ParseError::Empty);
    assert_eq!(
        malformed(&golden[..golden.len() / 2]),
        ParseError::Truncated,
        "truncated in the middle"
    );
    let mut latin1 = wrapped("<getConferencingCapabilities/>");
    latin1.splice(30..30, [0xE9]);
    assert!(matches!(malformed(&latin1), ParseError::NotUtf8 { .. }));
    let huge_attr = format!(
        r#"<request xmlns="urn:ietf:params:xml:ns:cccp" requestId="1" from="{}" to="b"><getConferencingCapabilities/></request>"#,
        "a".repeat(100_000)
    );
    assert_eq!(
        malformed(huge_attr.as_bytes()),
        ParseError::ValueTooLong {
            limit: plenum_c3p::MAX_VALUE_BYTES
        }
    );
    let huge_doc = wrapped(&format!("<!--{}-->", "x".repeat(2 << 20)));
    assert_eq!(
        malformed(&huge_doc),
        ParseError::TooLarge {
            limit: plenum_c3p::MAX_DOCUMENT_BYTES
        }
    );
    let deep = wrapped(&"<x:a xmlns:x='urn:x'>".repeat(64));
    assert!(matches!(malformed(&deep), ParseError::TooDeep { .. }));
    let many = wrapped(&"<x:a xmlns:x='urn:x'/>".repeat(60_000));
    assert!(matches!(
        malformed(&many),
        ParseError::TooManyElements { .. } | ParseError::TooLarge { .. }
    ));
    let laughs = br#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><request xmlns="urn:ietf:params:xml:ns:cccp" requestId="1" from="a" to="b"><addConference>&b;</addConference></request>"#;
    assert_eq!(malformed(laughs), ParseError::UnsupportedEntity);
    let dup = br#"<request xmlns="urn:ietf:params:xml:ns:cccp" requestId="1" requestId="2" from="a" to="b"><getConferencingCapabilities/></request>"#;
    assert!(matches!(malformed(dup), ParseError::Syntax { .. }));
    let mismatched = br#"<request xmlns="urn:ietf:params:xml:ns:cccp" requestId="1" from="a" to="b"><getConference></getConferences></request>"#;
    assert!(matches!(malformed(mismatched), ParseError::Syntax { .. }));
}

#[test]
fn every_prefix_of_every_golden_file_is_handled() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    for entry in std::fs::read_dir(dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        for end in 0..bytes.len() {
            let cut = &bytes[..end];
            let _ = Request::parse(cut);
            let _ = Response::parse(cut);
            let _ = ConferenceInfo::parse(cut);
        }
    }
}

#[test]
fn diagnostics_table_is_complete() {
    let codes: Vec<u16> = Diagnostic::ALL.iter().map(|d| d.code()).collect();
    assert_eq!(codes, (3000..=3023).collect::<Vec<_>>());
    for d in Diagnostic::ALL {
        assert_eq!(Diagnostic::from_code(d.code()), Some(*d));
        assert!(!d.text().is_empty());
    }
    assert_eq!(
        Diagnostic::ParseFailure.header_value(),
        "3006;reason=\"Failed to parse C3P request\""
    );
}

#[test]
fn failure_reason_names_round_trip() {
    for r in FailureReason::ALL {
        let s = r.as_str();
        assert!(s.starts_with(|c: char| c.is_ascii_lowercase()), "{s}");
        assert_eq!(s.parse::<FailureReason>(), Ok(*r));
    }
    for name in [
        "otherFailure",
        "conferenceDoesNotExist",
        "invalidConferenceId",
        "invalidPasscode",
        "invalidExpiryTime",
        "invalidAdmissionPolicy",
        "pstnLobbyBypassNotAllowed",
        "maximumConferencesExceeded",
        "requestMalformed",
        "unauthorized",
        "invalidVersion",
        "notSupported",
        "serverBusy",
    ] {
        assert!(name.parse::<FailureReason>().is_ok(), "{name}");
    }
}
