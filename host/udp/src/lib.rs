//! Batched datagram I/O on one UDP socket: `recvmmsg` and `sendmmsg` (Linux). The media engine
//! reads each leg's socket with one `recvmmsg` a tick; the load generator moves a tick's worth
//! of packets of many calls on its shared media socket in one system call each way.
//!
//! Owns: the buffers and the `mmsghdr` arrays, the translation of socket addresses, and the
//! one place in Plenum where these system calls are made (the `unsafe` blocks with their
//! SAFETY notes). Does not own: which socket, or what the datagrams mean.
//!
//! `benches/floor.rs` measures what the kernel charges per datagram on this path (one socket
//! per call with `sendto`, against one shared socket with `sendmmsg`, and the receive side).

use std::io;
use std::mem::MaybeUninit;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::RawFd;
use std::time::Duration;

/// The most datagrams one system call moves (and [`RecvBatch::default`]'s capacity).
pub const BATCH: usize = 64;
/// The largest datagram read (RTP of G.711 with SRTP is far below).
const DATAGRAM: usize = 2048;

/// Room for the control messages of one datagram (a kernel receive timestamp), aligned for
/// `cmsghdr`.
const CONTROL_WORDS: usize = 8;

/// Buffers for one `recvmmsg`, reused by every call (nothing is allocated per read).
pub struct RecvBatch {
    bufs: Box<[[u8; DATAGRAM]]>,
    lens: Box<[usize]>,
    addrs: Box<[libc::sockaddr_storage]>,
    control: Box<[[u64; CONTROL_WORDS]]>,
    stamps: Box<[Option<Duration>]>,
    count: usize,
}

impl Default for RecvBatch {
    fn default() -> Self {
        RecvBatch::with_capacity(BATCH)
    }
}

impl RecvBatch {
    /// Room for `capacity` datagrams a call (1 to [`BATCH`]): a socket that gets one datagram
    /// a tick wants a small batch, since every slot is set up for every call.
    pub fn with_capacity(capacity: usize) -> RecvBatch {
        let n = capacity.clamp(1, BATCH);
        RecvBatch {
            bufs: vec![[0; DATAGRAM]; n].into_boxed_slice(),
            lens: vec![0; n].into_boxed_slice(),
            // SAFETY: sockaddr_storage is plain old data; all zeroes is a valid value.
            addrs: vec![
                unsafe { MaybeUninit::<libc::sockaddr_storage>::zeroed().assume_init() };
                n
            ]
            .into_boxed_slice(),
            control: vec![[0; CONTROL_WORDS]; n].into_boxed_slice(),
            stamps: vec![None; n].into_boxed_slice(),
            count: 0,
        }
    }

    /// The most datagrams one [`RecvBatch::recv`] reads.
    pub fn capacity(&self) -> usize {
        self.bufs.len()
    }
}

/// Ask the kernel to stamp every datagram `fd` receives with its arrival time
/// (`SO_TIMESTAMPNS`, wall clock), read back by [`RecvBatch::get`].
pub fn enable_timestamps(fd: RawFd) -> io::Result<()> {
    let on: libc::c_int = 1;
    // SAFETY: a valid pointer to an int of the size given.
    let r = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPNS,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Set the socket's receive buffer (the kernel caps it at `net.core.rmem_max`).
pub fn set_receive_buffer(fd: RawFd, bytes: usize) -> io::Result<()> {
    let size = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
    // SAFETY: a valid pointer to an int of the size given.
    let r = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&size as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The socket's receive buffer as the kernel granted it (Linux reports twice what was asked,
/// for its bookkeeping, capped at `net.core.rmem_max`).
pub fn receive_buffer(fd: RawFd) -> io::Result<usize> {
    let mut size: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: valid pointers to an int and its length, as getsockopt expects.
    let r = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&mut size as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(usize::try_from(size).unwrap_or(0))
}

impl RecvBatch {
    /// Read up to [`RecvBatch::capacity`] datagrams waiting on `fd` without blocking; how
    /// many. `Ok(0)` or `WouldBlock` when none waits.
    pub fn recv(&mut self, fd: RawFd) -> io::Result<usize> {
        self.count = 0;
        let capacity = self.capacity();
        let mut iov: [MaybeUninit<libc::iovec>; BATCH] = [MaybeUninit::uninit(); BATCH];
        let mut msgs: [MaybeUninit<libc::mmsghdr>; BATCH] = [MaybeUninit::uninit(); BATCH];
        for i in 0..capacity {
            let (Some(buf), Some(addr), Some(control), Some(v), Some(m)) = (
                self.bufs.get_mut(i),
                self.addrs.get_mut(i),
                self.control.get_mut(i),
                iov.get_mut(i),
                msgs.get_mut(i),
            ) else {
                break;
            };
            let v = v.write(libc::iovec {
                iov_base: buf.as_mut_ptr().cast(),
                iov_len: DATAGRAM,
            });
            // SAFETY: mmsghdr is plain old data; zero is valid for every field, the pointers
            // set below point into buffers that outlive the call.
            let mut h: libc::mmsghdr = unsafe { std::mem::zeroed() };
            h.msg_hdr.msg_name = (addr as *mut libc::sockaddr_storage).cast();
            h.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_storage>() as u32;
            h.msg_hdr.msg_iov = v;
            h.msg_hdr.msg_iovlen = 1;
            h.msg_hdr.msg_control = control.as_mut_ptr().cast();
            h.msg_hdr.msg_controllen = std::mem::size_of::<[u64; CONTROL_WORDS]>();
            m.write(h);
        }
        // SAFETY: the first `capacity` (≤ BATCH) headers of `msgs` are initialised; their
        // iovecs, names and control buffers point into `iov`, `self.bufs`, `self.addrs` and
        // `self.control`, valid and exclusively borrowed for the call; the kernel writes at
        // most the lengths given there.
        let n = unsafe {
            libc::recvmmsg(
                fd,
                msgs.as_mut_ptr().cast(),
                capacity as u32,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let n = (n as usize).min(capacity);
        for (i, m) in msgs.iter().take(n).enumerate() {
            // SAFETY: every header was written above; the kernel filled in msg_len and the
            // control length.
            let m = unsafe { m.assume_init_ref() };
            if let Some(l) = self.lens.get_mut(i) {
                *l = (m.msg_len as usize).min(DATAGRAM);
            }
            if let Some(s) = self.stamps.get_mut(i) {
                *s = stamp(&m.msg_hdr);
            }
        }
        self.count = n;
        Ok(n)
    }

    /// The `i`th datagram of the last read, where it came from, and when the kernel received
    /// it (since the Unix epoch) if the socket stamps.
    pub fn get(&self, i: usize) -> Option<(&[u8], SocketAddr, Option<Duration>)> {
        if i >= self.count {
            return None;
        }
        let buf = self.bufs.get(i)?.get(..*self.lens.get(i)?)?;
        let from = from_storage(self.addrs.get(i)?)?;
        Some((buf, from, *self.stamps.get(i)?))
    }
}

/// The `SCM_TIMESTAMPNS` of a received message, if it carries one.
fn stamp(h: &libc::msghdr) -> Option<Duration> {
    // SAFETY: `h` is a message header the kernel filled in, its control buffer (of the length
    // it set) still alive; the CMSG macros stay within it.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(h);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_TIMESTAMPNS {
                let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                return Some(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32));
            }
            c = libc::CMSG_NXTHDR(h, c);
        }
    }
    None
}

/// Datagrams waiting to go out on one socket.
#[derive(Default)]
pub struct SendBatch {
    items: Vec<(SocketAddr, bytes::Bytes)>,
}

impl SendBatch {
    /// Queue one.
    pub fn push(&mut self, to: SocketAddr, bytes: bytes::Bytes) {
        self.items.push((to, bytes));
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// How many wait.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Send everything queued on `fd`, [`BATCH`] per system call; how many went out (the rest,
    /// refused by a full buffer or an error, are dropped as a network would).
    pub fn flush(&mut self, fd: RawFd) -> usize {
        let mut sent = 0;
        let mut at = 0;
        while at < self.items.len() {
            let chunk = self.items.get(at..).unwrap_or_default();
            let chunk = chunk.get(..chunk.len().min(BATCH)).unwrap_or_default();
            match send_chunk(fd, chunk) {
                Ok(0) | Err(_) => at += 1,
                Ok(n) => {
                    sent += n;
                    at += n;
                }
            }
        }
        self.items.clear();
        sent
    }
}

fn send_chunk(fd: RawFd, chunk: &[(SocketAddr, bytes::Bytes)]) -> io::Result<usize> {
    let n = chunk.len().min(BATCH);
    // SAFETY: plain old data; zero is valid.
    let mut addrs: [libc::sockaddr_storage; BATCH] = unsafe { std::mem::zeroed() };
    let mut iov: [MaybeUninit<libc::iovec>; BATCH] = [MaybeUninit::uninit(); BATCH];
    let mut msgs: [MaybeUninit<libc::mmsghdr>; BATCH] = [MaybeUninit::uninit(); BATCH];
    for (i, (to, bytes)) in chunk.iter().take(n).enumerate() {
        let (Some(addr), Some(v), Some(m)) = (addrs.get_mut(i), iov.get_mut(i), msgs.get_mut(i))
        else {
            break;
        };
        let namelen = to_storage(*to, addr);
        let v = v.write(libc::iovec {
            iov_base: bytes.as_ptr() as *mut libc::c_void,
            iov_len: bytes.len(),
        });
        // SAFETY: plain old data; the pointers set below outlive the call.
        let mut h: libc::mmsghdr = unsafe { std::mem::zeroed() };
        h.msg_hdr.msg_name = (addr as *mut libc::sockaddr_storage).cast();
        h.msg_hdr.msg_namelen = namelen;
        h.msg_hdr.msg_iov = v;
        h.msg_hdr.msg_iovlen = 1;
        m.write(h);
    }
    // SAFETY: the first `n` headers are initialised and point at `addrs` and at the bytes of
    // `chunk`, which the kernel only reads.
    let r = unsafe { libc::sendmmsg(fd, msgs.as_mut_ptr().cast(), n as u32, libc::MSG_DONTWAIT) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(r as usize)
}

fn to_storage(a: SocketAddr, out: &mut libc::sockaddr_storage) -> u32 {
    match a {
        SocketAddr::V4(v4) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: v4.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from(*v4.ip()).to_be(),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in.
            unsafe { std::ptr::write((out as *mut libc::sockaddr_storage).cast(), sin) };
            std::mem::size_of::<libc::sockaddr_in>() as u32
        }
        SocketAddr::V6(v6) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: v6.port().to_be(),
                sin6_flowinfo: v6.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: v6.ip().octets(),
                },
                sin6_scope_id: v6.scope_id(),
            };
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in6.
            unsafe { std::ptr::write((out as *mut libc::sockaddr_storage).cast(), sin6) };
            std::mem::size_of::<libc::sockaddr_in6>() as u32
        }
    }
}

fn from_storage(s: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match i32::from(s.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in.
            let sin: libc::sockaddr_in =
                unsafe { std::ptr::read((s as *const libc::sockaddr_storage).cast()) };
            Some(SocketAddr::V4(SocketAddrV4::new(
                Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)),
                u16::from_be(sin.sin_port),
            )))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says the storage holds a sockaddr_in6.
            let sin6: libc::sockaddr_in6 =
                unsafe { std::ptr::read((s as *const libc::sockaddr_storage).cast()) };
            Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(sin6.sin6_addr.s6_addr),
                u16::from_be(sin6.sin6_port),
                sin6.sin6_flowinfo,
                sin6.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::os::fd::AsRawFd;

    use super::*;

    #[test]
    fn a_batch_goes_out_and_comes_back_in_one_call_each() {
        let a = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        enable_timestamps(b.as_raw_fd()).unwrap();
        set_receive_buffer(b.as_raw_fd(), 1 << 16).unwrap();
        assert!(receive_buffer(b.as_raw_fd()).unwrap() >= 1 << 16);
        set_receive_buffer(b.as_raw_fd(), 1 << 20).unwrap();
        let before = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        let to = b.local_addr().unwrap();
        let mut out = SendBatch::default();
        for i in 0..100u8 {
            out.push(to, bytes::Bytes::from(vec![i; usize::from(i) + 1]));
        }
        assert_eq!(out.flush(a.as_raw_fd()), 100);
        assert!(out.is_empty());
        let mut batch = RecvBatch::default();
        let mut seen = Vec::new();
        while seen.len() < 100 {
            let n = batch.recv(b.as_raw_fd()).unwrap();
            for i in 0..n {
                let (d, from, at) = batch.get(i).unwrap();
                assert_eq!(from, a.local_addr().unwrap());
                assert!(at.unwrap() + Duration::from_millis(1) >= before);
                assert_eq!(d.len(), usize::from(d[0]) + 1);
                seen.push(d[0]);
            }
        }
        assert_eq!(seen, (0..100).collect::<Vec<u8>>());
        let e = batch.recv(b.as_raw_fd()).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
        assert!(batch.get(0).is_none());
    }

    #[test]
    fn a_small_batch_reads_its_capacity_and_says_when_none_is_left() {
        let a = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        b.set_nonblocking(true).unwrap();
        for i in 0..19u8 {
            a.send_to(&[i; 3], b.local_addr().unwrap()).unwrap();
        }
        let mut batch = RecvBatch::with_capacity(16);
        assert_eq!(batch.capacity(), 16);
        assert_eq!(batch.recv(b.as_raw_fd()).unwrap(), 16);
        let (d, from, at) = batch.get(1).unwrap();
        assert_eq!(
            (d, from, at),
            (&[1u8, 1, 1][..], a.local_addr().unwrap(), None)
        );
        assert_eq!(batch.recv(b.as_raw_fd()).unwrap(), 3);
        assert_eq!(batch.get(2).unwrap().0, &[18u8, 18, 18][..]);
        assert!(batch.get(3).is_none());
        let e = batch.recv(b.as_raw_fd()).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
        assert_eq!(RecvBatch::with_capacity(1000).capacity(), BATCH);
    }
}
