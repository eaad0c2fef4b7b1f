//! What the kernel charges per datagram on the media path, on this machine's loopback: the
//! floor under the media engine's CPU per participant, whatever the engine does in user space.
//!
//! - `send/sendto-per-socket`: one `sendto` per datagram, each from its own socket (the media
//!   engine today: a socket per leg, so that each call has its own port).
//! - `send/sendmmsg-shared`: one socket sends to every destination, [`BATCH`] datagrams per
//!   `sendmmsg` (what a shared media port would allow).
//! - `recv/recvmmsg-per-socket`: one datagram waiting on each of many sockets, read with one
//!   `recvmmsg` each (the media engine today).
//! - `recv/recvmmsg-shared`: the same number of datagrams waiting on one socket, read
//!   [`BATCH`] at a time.
//!
//! Each iteration moves [`SOCKETS`] datagrams of a G.711 SRTP packet's size (182 bytes);
//! only the system calls are timed (the other side's work is done outside the clock, except
//! what loopback does inside the sender's call: the receiving socket's queueing).
//! Run: `cargo bench -p plenum-udp --bench floor`.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use plenum_udp::{BATCH, RecvBatch, SendBatch};

/// Calls (sockets) per iteration.
const SOCKETS: usize = 500;
/// 12-byte RTP header + 160 bytes of G.711 + a 10-byte SRTP tag.
const PACKET: usize = 182;

fn bind_many(n: usize) -> Vec<UdpSocket> {
    (0..n)
        .map(|_| {
            let s = UdpSocket::bind("127.0.0.1:0").unwrap();
            s.set_nonblocking(true).unwrap();
            plenum_udp::set_receive_buffer(s.as_raw_fd(), 1 << 20).unwrap();
            s
        })
        .collect()
}

fn drain(sockets: &[UdpSocket], batch: &mut RecvBatch) -> usize {
    let mut n = 0;
    for s in sockets {
        while let Ok(k) = batch.recv(s.as_raw_fd()) {
            if k == 0 {
                break;
            }
            n += k;
        }
    }
    n
}

fn send(c: &mut Criterion) {
    let senders = bind_many(SOCKETS);
    let receivers = bind_many(SOCKETS);
    let shared = bind_many(1).remove(0);
    let to: Vec<SocketAddr> = receivers.iter().map(|r| r.local_addr().unwrap()).collect();
    let payload = bytes::Bytes::from(vec![0x80u8; PACKET]);
    let mut sink = RecvBatch::default();
    let mut g = c.benchmark_group("send");
    g.throughput(Throughput::Elements(SOCKETS as u64));
    g.bench_function("sendto-per-socket", |b| {
        b.iter_custom(|iters| {
            let mut took = Duration::ZERO;
            for _ in 0..iters {
                let t = Instant::now();
                for (s, to) in senders.iter().zip(&to) {
                    s.send_to(&payload, to).unwrap();
                }
                took += t.elapsed();
                assert_eq!(drain(&receivers, &mut sink), SOCKETS);
            }
            took
        })
    });
    g.bench_function("sendmmsg-shared", |b| {
        let mut out = SendBatch::default();
        b.iter_custom(|iters| {
            let mut took = Duration::ZERO;
            for _ in 0..iters {
                for to in &to {
                    out.push(*to, payload.clone());
                }
                let t = Instant::now();
                let sent = out.flush(shared.as_raw_fd());
                took += t.elapsed();
                assert_eq!(sent, SOCKETS);
                assert_eq!(drain(&receivers, &mut sink), SOCKETS);
            }
            took
        })
    });
    g.finish();
}

fn recv(c: &mut Criterion) {
    let senders = bind_many(SOCKETS);
    let receivers = bind_many(SOCKETS);
    let shared = bind_many(1).remove(0);
    plenum_udp::set_receive_buffer(shared.as_raw_fd(), 4 << 20).unwrap();
    let payload = vec![0x80u8; PACKET];
    let mut g = c.benchmark_group("recv");
    g.throughput(Throughput::Elements(SOCKETS as u64));
    g.bench_function("recvmmsg-per-socket", |b| {
        let mut batch = RecvBatch::with_capacity(16);
        b.iter_custom(|iters| {
            let mut took = Duration::ZERO;
            for _ in 0..iters {
                for (s, r) in senders.iter().zip(&receivers) {
                    s.send_to(&payload, r.local_addr().unwrap()).unwrap();
                }
                let t = Instant::now();
                let mut got = 0;
                for r in &receivers {
                    got += batch.recv(r.as_raw_fd()).unwrap();
                }
                took += t.elapsed();
                assert_eq!(got, SOCKETS);
            }
            took
        })
    });
    g.bench_function("recvmmsg-shared", |b| {
        let mut batch = RecvBatch::default();
        let to = shared.local_addr().unwrap();
        b.iter_custom(|iters| {
            let mut took = Duration::ZERO;
            for _ in 0..iters {
                for s in &senders {
                    s.send_to(&payload, to).unwrap();
                }
                let t = Instant::now();
                let mut got = 0;
                while got < SOCKETS {
                    got += batch.recv(shared.as_raw_fd()).unwrap();
                }
                took += t.elapsed();
                assert!(batch.capacity() == BATCH);
            }
            took
        })
    });
    g.finish();
}

criterion_group!(benches, send, recv);
criterion_main!(benches);
