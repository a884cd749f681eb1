//! Frames read from and written to channels.

use std::ptr::NonNull;

use super::format::{Format, FormatView};
use super::sys;

/// What a frame read from a channel carries, as far as this module cares;
/// it borrows the frame.
pub enum FrameKind<'a> {
    Voice {
        format: Option<FormatView<'a>>,
        data: &'a [u8],
    },
    DtmfEnd(u8),
    Control(i32),
    Other,
}

impl FrameKind<'_> {
    pub fn is_hangup(&self) -> bool {
        matches!(self, FrameKind::Control(c) if *c == sys::AST_CONTROL_HANGUP as i32)
    }
}

/// # Safety
/// `f` must be a valid frame for `'a`.
unsafe fn kind_of<'a>(f: &'a sys::ast_frame) -> FrameKind<'a> {
    match f.frametype {
        sys::AST_FRAME_VOICE => {
            let len = f.datalen.max(0) as usize;
            // SAFETY: for a voice frame, data.ptr holds datalen bytes for
            // the frame's lifetime (which bounds the returned slice).
            let ptr = unsafe { f.data.ptr } as *const u8;
            let data = if ptr.is_null() || len == 0 {
                &[][..]
            } else {
                // SAFETY: see above.
                unsafe { std::slice::from_raw_parts(ptr, len) }
            };
            // SAFETY: voice frames use the format member of the union, and
            // the frame holds a reference to it for 'a.
            let format = unsafe { FormatView::from_ptr(f.subclass.__bindgen_anon_1.format) };
            FrameKind::Voice { format, data }
        }
        sys::AST_FRAME_DTMF_END => FrameKind::DtmfEnd(f.subclass.integer as u8),
        sys::AST_FRAME_CONTROL => FrameKind::Control(f.subclass.integer),
        _ => FrameKind::Other,
    }
}

/// The kind of a frame Asterisk lent us for the length of a callback.
///
/// # Safety
/// `frame` must be null or a frame valid for `'a`.
pub(super) unsafe fn borrowed_kind<'a>(frame: *mut sys::ast_frame) -> Option<FrameKind<'a>> {
    // SAFETY: per the caller's contract.
    unsafe { frame.as_ref() }.map(|f| {
        // SAFETY: f is valid for 'a.
        unsafe { kind_of(f) }
    })
}

/// A frame returned by `ast_read`, freed on drop.
pub struct ReadFrame(NonNull<sys::ast_frame>);

impl ReadFrame {
    /// # Safety
    /// `ptr` must be a frame returned by `ast_read` that nobody else frees.
    pub(super) unsafe fn from_read(ptr: *mut sys::ast_frame) -> Option<ReadFrame> {
        NonNull::new(ptr).map(ReadFrame)
    }

    pub fn kind(&self) -> FrameKind<'_> {
        // SAFETY: the frame is live until we free it in drop.
        unsafe { kind_of(self.0.as_ref()) }
    }
}

impl Drop for ReadFrame {
    fn drop(&mut self) {
        // SAFETY: we own the frame ast_read gave us; ast_frfree handles both
        // malloc'd and static frames.
        unsafe { sys::ars_frfree(self.0.as_ptr()) };
    }
}

/// A reusable outgoing frame with its own buffer, leaving Asterisk's
/// friendly offset free in front of the data so writers need not copy.
/// Each fill describes one frame, valid until the next fill.
pub struct OutFrame {
    frame: sys::ast_frame,
    buf: Vec<u8>,
}

// SAFETY: the frame's pointers are into `buf` (owned), a static string and
// a cached format; moving the whole to another thread moves what they
// point into with it, or points at what lives for ever.
unsafe impl Send for OutFrame {}

const SRC: &std::ffi::CStr = c"AudioSocket";

impl Default for OutFrame {
    fn default() -> Self {
        OutFrame {
            // SAFETY: ast_frame is plain C data; all-zero is its empty state
            // (AST_FRAME_NULL is not zero, but every use sets frametype).
            frame: unsafe { std::mem::zeroed() },
            buf: Vec::new(),
        }
    }
}

impl OutFrame {
    fn reset(&mut self, frametype: sys::ast_frame_type) {
        // SAFETY: as in Default.
        self.frame = unsafe { std::mem::zeroed() };
        self.frame.frametype = frametype;
        self.frame.src = SRC.as_ptr();
    }

    pub(super) fn as_mut_ptr(&mut self) -> *mut sys::ast_frame {
        &mut self.frame
    }

    /// A voice frame of `pcm` in `format`.
    pub fn voice(&mut self, format: Format, pcm: &[u8]) -> &mut OutFrame {
        let offset = sys::AST_FRIENDLY_OFFSET as usize;
        self.buf.clear();
        self.buf.resize(offset, 0);
        self.buf.extend_from_slice(pcm);
        self.reset(sys::AST_FRAME_VOICE);
        self.frame.subclass.__bindgen_anon_1.format = format.as_ptr();
        self.frame.datalen = pcm.len() as i32;
        self.frame.samples = (pcm.len() / 2) as i32;
        self.frame.offset = offset as i32;
        self.frame.data.ptr = self.buf[offset..].as_mut_ptr().cast();
        self
    }

    /// A DTMF end frame that also tells its length (Asterisk emulates the begin).
    pub fn dtmf_end(&mut self, digit: u8, ms: u32) -> &mut OutFrame {
        self.reset(sys::AST_FRAME_DTMF_END);
        self.frame.subclass.integer = digit.into();
        self.frame.len = ms.into();
        self
    }

    /// The far end put the call on hold: the other party hears music on
    /// hold of `class` (its channel's own class when empty).
    pub fn hold(&mut self, class: &str) -> &mut OutFrame {
        self.reset(sys::AST_FRAME_CONTROL);
        self.frame.subclass.integer = sys::AST_CONTROL_HOLD as i32;
        if !class.is_empty() {
            // The class travels as a NUL-terminated string, as chan_pjsip
            // sends it.
            self.buf.clear();
            self.buf.extend(class.bytes().filter(|b| *b != 0));
            self.buf.push(0);
            self.frame.datalen = self.buf.len() as i32;
            self.frame.data.ptr = self.buf.as_mut_ptr().cast();
        }
        self
    }

    /// The far end took the call off hold.
    pub fn unhold(&mut self) -> &mut OutFrame {
        self.reset(sys::AST_FRAME_CONTROL);
        self.frame.subclass.integer = sys::AST_CONTROL_UNHOLD as i32;
        self
    }

    /// The channel answered.
    pub fn answer(&mut self) -> &mut OutFrame {
        self.reset(sys::AST_FRAME_CONTROL);
        self.frame.subclass.integer = sys::AST_CONTROL_ANSWER as i32;
        self
    }
}

/// Asterisk's shared empty frame, the "nothing to report" answer of a read.
pub(super) fn null_frame() -> *mut sys::ast_frame {
    // Taking the address of an extern static does not read it.
    std::ptr::addr_of_mut!(sys::ast_null_frame)
}
