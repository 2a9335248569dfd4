//! The streaming tar index (`TarIndex::build`, fed in chunks of random sizes) and member reads:
//! archives of ustar, GNU long-name and pax members written here with every type flag, sizes in
//! octal and base-256 up to 2^64 − 1, pax records with wrong lengths, checksums right (mostly)
//! and wrong, archives cut anywhere. Reading a member never allocates more than the member
//! limit, whatever its header claims.

use std::cell::RefCell;
use std::io::Cursor;

use leakscope::datasets::{ByteSource, MAX_TAR_MEMBER_BYTES, TarIndex};

use super::{Gen, parts, split_parts};

/// One 512-byte header (checksum filled in, or damaged when `bad_sum`).
pub fn header(
    name: &str,
    size_field: [u8; 12],
    kind: u8,
    prefix: &str,
    bad_sum: bool,
) -> [u8; 512] {
    let mut h = [0u8; 512];
    let n = name.as_bytes();
    h[..n.len().min(100)].copy_from_slice(&n[..n.len().min(100)]);
    h[100..108].copy_from_slice(b"0000644\0");
    h[124..136].copy_from_slice(&size_field);
    h[156] = kind;
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    let p = prefix.as_bytes();
    h[345..345 + p.len().min(155)].copy_from_slice(&p[..p.len().min(155)]);
    h[148..156].copy_from_slice(b"        ");
    let sum: u64 = h.iter().map(|&b| u64::from(b)).sum::<u64>() + u64::from(bad_sum);
    let field = format!("{sum:06o}\0 ");
    h[148..156].copy_from_slice(&field.as_bytes()[..8]);
    h
}

pub fn octal(size: u64) -> [u8; 12] {
    let mut f = [0u8; 12];
    let text = format!("{size:011o}");
    let b = text.as_bytes();
    let n = b.len().min(11);
    f[..n].copy_from_slice(&b[b.len() - n..]);
    f
}

fn base256(size: u64) -> [u8; 12] {
    let mut f = [0u8; 12];
    f[4..].copy_from_slice(&size.to_be_bytes());
    f[0] = 0x80;
    f
}

fn size_field(g: &mut Gen<'_, '_>, size: u64) -> [u8; 12] {
    match g.range(0, 9) {
        0 => base256(size),
        1 => {
            let mut f = [0u8; 12];
            for b in f.iter_mut() {
                *b = *g.pick(b"0123456789 \0x");
            }
            f
        }
        2 => {
            let mut f = base256(size);
            f[0] = 0xC0; // negative
            f
        }
        _ => octal(size),
    }
}

fn padded(data: &[u8]) -> Vec<u8> {
    let mut v = data.to_vec();
    v.resize(data.len().div_ceil(512) * 512, 0);
    v
}

fn pax_record(key: &str, value: &str) -> String {
    let body = format!(" {key}={value}\n");
    let mut len = body.len() + 1;
    while format!("{len}{body}").len() != len {
        len += 1;
    }
    format!("{len}{body}")
}

fn generate(g: &mut Gen<'_, '_>) -> super::Input {
    let mut tar = Vec::new();
    for _ in 0..g.below(8) {
        let name = match g.range(0, 4) {
            0 => format!("imgs/{}.png", g.range(0, 30)),
            1 => format!("./vlsbench/imgs/{}.png", g.range(0, 30)),
            2 => g.text(30),
            3 => "x".repeat(g.range(90, 300) as usize),
            _ => format!("imgs/{}/", g.word(4)),
        };
        let kind = *g.pick(b"000000\x00\x005217LxgKSV3 ");
        let data_len = g.below(700);
        let data: Vec<u8> = (0..data_len).map(|_| g.byte()).collect();
        // The size the header claims: mostly the truth, else anything.
        let claimed = if g.chance(75) {
            data_len as u64
        } else {
            g.number()
        };
        if g.chance(15) {
            // A GNU long name or pax header first.
            if g.chance(50) {
                let long = format!("{}{}", "dir/".repeat(g.range(1, 60) as usize), name);
                let body = format!("{long}\0");
                tar.extend(header(
                    "././@LongLink",
                    octal(body.len() as u64),
                    b'L',
                    "",
                    false,
                ));
                tar.extend(padded(body.as_bytes()));
            } else {
                let mut body = pax_record("path", &name);
                if g.chance(50) {
                    body.push_str(&pax_record("size", &g.number().to_string()));
                }
                if g.chance(20) {
                    body = format!("{} {}", g.number(), g.text(20));
                }
                tar.extend(header(
                    "PaxHeaders/x",
                    octal(body.len() as u64),
                    b'x',
                    "",
                    false,
                ));
                tar.extend(padded(body.as_bytes()));
            }
        }
        let prefix = if g.chance(10) {
            g.word(20)
        } else {
            String::new()
        };
        let field = size_field(g, claimed);
        tar.extend(header(&name, field, kind, &prefix, g.chance(5)));
        tar.extend(padded(&data));
    }
    if g.chance(80) {
        tar.extend([0u8; 1024]);
    }
    if g.chance(25) {
        let cut = g.below(tar.len() + 1);
        tar.truncate(cut);
    }
    if g.chance(15) {
        g.mutate(&mut tar, 4);
    }
    let chunk = g.range(1, 2000).to_le_bytes();
    Ok(parts(&[&tar, &chunk]))
}

fn check(input: &[u8]) {
    let [tar, chunk] = split_parts::<2>(input);
    let chunk = chunk
        .first_chunk::<8>()
        .map_or(512, |b| u64::from_le_bytes(*b) as usize)
        .clamp(1, 1 << 20);
    let Ok(index) = TarIndex::build("fuzz.tar", tar.chunks(chunk)) else {
        return;
    };
    let reader = RefCell::new(Cursor::new(tar.to_vec()));
    for (path, entry) in index.iter() {
        let reads = [
            index.read_entry(tar, entry),
            index.read_entry(&reader, entry),
        ];
        for bytes in reads.into_iter().flatten() {
            assert_eq!(bytes.len() as u64, entry.size, "{path}");
            assert!(entry.size <= MAX_TAR_MEMBER_BYTES);
        }
        let _ = tar.read_at(entry.offset, 16);
    }
}

fuzz_target!("tar", cases: 500, size_max: 65536, memory: 32 << 20);
