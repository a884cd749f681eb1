//! Signed linear audio from one rate to another, with Asterisk's own
//! translators (codec_resample).

use std::ptr::NonNull;

use super::format::Format;
use super::frame::OutFrame;
use super::sys;

/// A translation path between two signed linear rates.
pub struct Resampler {
    path: NonNull<sys::ast_trans_pvt>,
    from: Format,
    frame: OutFrame,
}

// SAFETY: a translation path is used by one thread at a time (its owner
// holds it behind `&mut`), and Asterisk's translators keep no thread
// affinity.
unsafe impl Send for Resampler {}

impl Resampler {
    /// None when the rates are Asterisk's own signed linear ones but no
    /// translator joins them (codec_resample not loaded).
    pub fn new(from_hz: u32, to_hz: u32) -> Option<Resampler> {
        let (from, to) = (Format::slin(from_hz)?, Format::slin(to_hz)?);
        // SAFETY: both are cached formats; a null result means no path.
        let path =
            NonNull::new(unsafe { sys::ast_translator_build_path(to.as_ptr(), from.as_ptr()) })?;
        Some(Resampler {
            path,
            from,
            frame: OutFrame::default(),
        })
    }

    /// Appends `pcm` (little-endian samples at the source rate) to `out`,
    /// at the destination rate.
    pub fn convert(&mut self, pcm: &[u8], out: &mut Vec<u8>) {
        let frame = self.frame.voice(self.from, pcm);
        // SAFETY: the path is live and ours; the frame is valid for the
        // call and not consumed; the result is a frame (list) we free.
        let mut f = unsafe { sys::ast_translate(self.path.as_ptr(), frame.as_mut_ptr(), 0) };
        let first = f;
        // SAFETY: every frame in the list Asterisk returned is valid
        // until freed below.
        while let Some(frame) = unsafe { f.as_ref() } {
            let len = frame.datalen.max(0) as usize;
            // SAFETY: a voice frame's data holds datalen bytes.
            let data = unsafe { frame.data.ptr } as *const u8;
            if !data.is_null() && len > 0 {
                // SAFETY: as above.
                out.extend_from_slice(unsafe { std::slice::from_raw_parts(data, len) });
            }
            f = frame.frame_list.next;
        }
        if !first.is_null() {
            // SAFETY: the translator's result is ours to free, list and all.
            unsafe { sys::ars_frfree(first) };
        }
    }
}

impl Drop for Resampler {
    fn drop(&mut self) {
        // SAFETY: built in `new`, freed once.
        unsafe { sys::ast_translator_free_path(self.path.as_ptr()) };
    }
}
