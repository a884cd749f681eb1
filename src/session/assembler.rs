//! Turns server audio payloads of any size into playout frames of whole
//! samples. A payload of odd length leaves its last byte here, to be joined
//! with the first byte of the next payload: never played as noise.

pub(crate) struct Assembler {
    frame_bytes: usize,
    current: Vec<u8>,
}

impl Assembler {
    pub fn new(frame_bytes: usize) -> Self {
        Assembler {
            frame_bytes,
            current: Vec::with_capacity(frame_bytes),
        }
    }

    /// Appends a payload; calls `emit` with every frame it completes.
    pub fn push(&mut self, mut payload: &[u8], mut emit: impl FnMut(Vec<u8>)) {
        while !payload.is_empty() {
            let take = (self.frame_bytes - self.current.len()).min(payload.len());
            self.current.extend_from_slice(&payload[..take]);
            payload = &payload[take..];
            if self.current.len() == self.frame_bytes {
                let full =
                    std::mem::replace(&mut self.current, Vec::with_capacity(self.frame_bytes));
                emit(full);
            }
        }
    }

    /// Whether whole samples of a short frame are held.
    pub fn holds_samples(&self) -> bool {
        self.current.len() >= 2
    }

    /// Forgets what is buffered (a flush), an odd byte included.
    pub fn clear(&mut self) {
        self.current.clear();
    }

    /// Hands over what is buffered as a short frame (whole samples only), so
    /// the tail of a burst plays without waiting for more audio.
    pub fn flush(&mut self) -> Option<Vec<u8>> {
        let whole = self.current.len() & !1;
        if whole == 0 {
            return None;
        }
        let carry = self.current.split_off(whole);
        let mut frame = std::mem::replace(&mut self.current, carry);
        frame.shrink_to_fit();
        self.current.reserve(self.frame_bytes);
        Some(frame)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(a: &mut Assembler, payload: &[u8]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        a.push(payload, |f| out.push(f));
        out
    }

    #[test]
    fn any_payload_sizes_give_the_same_byte_stream_in_whole_frames() {
        let stream: Vec<u8> = (0..5000u32).map(|i| (i * 7) as u8).collect();
        for sizes in [vec![1], vec![3], vec![320], vec![321, 319, 7], vec![1000]] {
            let mut a = Assembler::new(320);
            let mut out = Vec::new();
            let mut at = 0;
            let mut i = 0;
            while at < stream.len() {
                let n = sizes[i % sizes.len()].min(stream.len() - at);
                out.extend(collect(&mut a, &stream[at..at + n]));
                at += n;
                i += 1;
            }
            assert!(out.iter().all(|f| f.len() == 320));
            let tail = a.flush();
            let mut joined: Vec<u8> = out.concat();
            if let Some(t) = tail {
                joined.extend(t);
            }
            assert_eq!(joined, stream, "sizes {sizes:?}");
        }
    }

    #[test]
    fn an_odd_byte_waits_for_its_partner() {
        let mut a = Assembler::new(320);
        assert!(collect(&mut a, &[1, 2, 3]).is_empty());
        assert_eq!(a.flush(), Some(vec![1, 2]));
        assert_eq!(a.flush(), None);
        assert!(collect(&mut a, &[4]).is_empty());
        assert_eq!(a.flush(), Some(vec![3, 4]));
    }
}
