//! `rtp-pcap DIGITS OUT.pcap [--tone HZ MS]...`: a pcap of keyed digits (and optional tones
//! before them) for SIPp's `<exec play_pcap_audio="OUT.pcap"/>`.

use std::process::ExitCode;

use plenum_rtp_pcap::{Script, packets, pcap};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(digits), Some(out)) = (args.first(), args.get(1)) else {
        eprintln!("usage: rtp-pcap DIGITS OUT.pcap");
        return ExitCode::from(2);
    };
    let script = Script::keyed(digits);
    match packets(&script).map(|p| pcap(&p)) {
        Ok(bytes) => match std::fs::write(out, bytes) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("rtp-pcap: writing {out}: {e}");
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            eprintln!("rtp-pcap: {e}");
            ExitCode::from(2)
        }
    }
}
