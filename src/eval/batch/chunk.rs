//! Cutting request lines into batches under an API's limits, by count and by cumulative bytes
//! (each line carries its image in base64, so bytes run out long before the count does), and
//! writing them as they come, never holding a file in memory.

use std::io::{self, Write};

use super::Limits;
use super::lines::Framing;

/// Where the next line goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fit {
    /// Into the current chunk.
    Here,
    /// The current chunk is full: close it and start the next one with this line.
    Next,
    /// Not even alone: the line is larger than a whole batch may be.
    Never,
}

/// The lines and bytes of the chunk being filled.
#[derive(Clone, Copy, Debug)]
pub struct Chunker {
    limits: Limits,
    framing: Framing,
    count: usize,
    bytes: u64,
}

impl Chunker {
    pub fn new(limits: Limits, framing: Framing) -> Self {
        Self {
            limits,
            framing,
            count: 0,
            bytes: framing.empty(),
        }
    }

    /// Where a line of `len` bytes goes.
    pub fn fit(&self, len: u64) -> Fit {
        let alone = self.framing.empty() + self.framing.cost(0, len);
        if alone > self.limits.bytes {
            return Fit::Never;
        }
        let full = self.count >= self.limits.requests
            || self.bytes + self.framing.cost(self.count, len) > self.limits.bytes;
        if full && self.count > 0 {
            Fit::Next
        } else {
            Fit::Here
        }
    }

    /// Counts a line of `len` bytes into the current chunk.
    pub fn add(&mut self, len: u64) {
        self.bytes += self.framing.cost(self.count, len);
        self.count += 1;
    }

    /// Starts the next chunk.
    pub fn reset(&mut self) {
        *self = Self::new(self.limits, self.framing);
    }

    pub fn count(&self) -> usize {
        self.count
    }

    /// The chunk's size as uploaded so far, framing included.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

/// Writes one chunk's lines with their framing into `out` as they come.
pub struct ChunkWriter<W: Write> {
    out: W,
    framing: Framing,
    count: usize,
    bytes: u64,
}

impl<W: Write> ChunkWriter<W> {
    pub fn new(mut out: W, framing: Framing) -> io::Result<Self> {
        out.write_all(framing.head().as_bytes())?;
        Ok(Self {
            out,
            framing,
            count: 0,
            bytes: framing.head().len() as u64,
        })
    }

    pub fn push(&mut self, line: &str) -> io::Result<()> {
        if self.count > 0 {
            self.out.write_all(self.framing.between().as_bytes())?;
        }
        self.out.write_all(line.as_bytes())?;
        self.out.write_all(self.framing.after().as_bytes())?;
        self.bytes += self.framing.cost(self.count, line.len() as u64);
        self.count += 1;
        Ok(())
    }

    pub fn count(&self) -> usize {
        self.count
    }

    /// Writes the closing framing; returns the output and the chunk's size in bytes.
    pub fn finish(mut self) -> io::Result<(W, u64)> {
        self.out.write_all(self.framing.tail().as_bytes())?;
        self.out.flush()?;
        Ok((self.out, self.bytes + self.framing.tail().len() as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::api::ApiKind;

    /// Splits lines of the given lengths the way the batch engine does.
    fn split(limits: Limits, kind: ApiKind, lengths: &[u64]) -> (Vec<Vec<usize>>, Vec<usize>) {
        let mut c = Chunker::new(limits, Framing(kind));
        let (mut chunks, mut never) = (vec![Vec::new()], Vec::new());
        for (i, &len) in lengths.iter().enumerate() {
            match c.fit(len) {
                Fit::Never => {
                    never.push(i);
                    continue;
                }
                Fit::Next => {
                    c.reset();
                    chunks.push(Vec::new());
                }
                Fit::Here => {}
            }
            c.add(len);
            chunks.last_mut().unwrap().push(i);
            assert!(c.bytes() <= limits.bytes && c.count() <= limits.requests);
        }
        (chunks, never)
    }

    #[test]
    fn lines_are_cut_by_cumulative_bytes_then_by_count() {
        let limits = Limits {
            requests: 3,
            bytes: 100,
        };
        // JSONL: each line costs its length + 1 (the line break).
        let (chunks, never) = split(limits, ApiKind::OpenAiChat, &[40, 40, 30, 10, 10, 10, 10]);
        assert_eq!(chunks, [vec![0, 1], vec![2, 3, 4], vec![5, 6]]);
        assert!(never.is_empty());
        // A line larger than a whole batch is set aside, the rest go on.
        let (chunks, never) = split(limits, ApiKind::OpenAiChat, &[10, 100, 10]);
        assert_eq!((chunks, never), (vec![vec![0, 2]], vec![1]));
        // Anthropic's body: {"requests":[ … , … ]} frames the same lines.
        let (chunks, _) = split(limits, ApiKind::AnthropicMessages, &[40, 40, 30]);
        assert_eq!(chunks, [vec![0, 1], vec![2]]);
    }

    #[test]
    fn the_writer_writes_what_the_chunker_counted() {
        for kind in [ApiKind::OpenAiChat, ApiKind::AnthropicMessages] {
            let framing = Framing(kind);
            let mut c = Chunker::new(
                Limits {
                    requests: 10,
                    bytes: 1000,
                },
                framing,
            );
            let mut w = ChunkWriter::new(Vec::new(), framing).unwrap();
            for line in [r#"{"custom_id":"t1-a"}"#, r#"{"custom_id":"t2-a"}"#] {
                c.add(line.len() as u64);
                w.push(line).unwrap();
            }
            assert_eq!(w.count(), 2);
            let (bytes, size) = w.finish().unwrap();
            assert_eq!((bytes.len() as u64, size), (c.bytes(), c.bytes()));
        }
    }
}
