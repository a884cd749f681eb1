//! Data a module keeps on a channel it does not own, for as long as the
//! channel lives (a masquerade moves it with the channel): Asterisk's
//! datastores, holding an `Arc` of a Rust value.

use std::ffi::{c_void, CStr};
use std::marker::PhantomData;
use std::sync::Arc;

use super::channel::Channel;
use super::guard::guard;
use super::module::module_self;
use super::sys;

/// One kind of channel data, declared once as a `static`.
pub struct ChannelData<T> {
    info: sys::ast_datastore_info,
    _holds: PhantomData<fn() -> T>,
}

// SAFETY: the info record is immutable after construction: a static type
// name and function pointers, which any thread may read.
unsafe impl<T> Sync for ChannelData<T> {}

unsafe extern "C" fn destroy<T: Send + Sync + 'static>(data: *mut c_void) {
    if data.is_null() {
        return;
    }
    guard(
        || "freeing a channel's data".into(),
        (),
        || {
            // SAFETY: data is the Box<Arc<T>> made in get_or_insert;
            // Asterisk frees a datastore once, as the channel goes.
            drop(unsafe { Box::from_raw(data as *mut Arc<T>) });
        },
    );
}

impl<T: Send + Sync + 'static> ChannelData<T> {
    pub const fn new(name: &'static CStr) -> ChannelData<T> {
        ChannelData {
            info: sys::ast_datastore_info {
                type_: name.as_ptr(),
                duplicate: None,
                destroy: Some(destroy::<T>),
                chan_fixup: None,
                chan_breakdown: None,
            },
            _holds: PhantomData,
        }
    }

    /// The data on `chan`, if it has any. Takes the channel's lock.
    pub fn get(&'static self, chan: Channel<'_>) -> Option<Arc<T>> {
        let _locked = chan.lock();
        self.find(chan)
    }

    /// The data on `chan`, made by `make` when it has none yet; None if
    /// Asterisk could not allocate. Takes the channel's lock.
    pub fn get_or_insert(
        &'static self,
        chan: Channel<'_>,
        make: impl FnOnce() -> T,
    ) -> Option<Arc<T>> {
        let _locked = chan.lock();
        if let Some(found) = self.find(chan) {
            return Some(found);
        }
        let file = c"datastore.rs";
        // SAFETY: info is 'static; the module is ours (the datastore holds
        // a reference to it until freed); no uid.
        let ds = unsafe {
            sys::__ast_datastore_alloc(
                &self.info,
                std::ptr::null(),
                module_self().cast(),
                file.as_ptr(),
                line!() as i32,
                file.as_ptr(),
            )
        };
        if ds.is_null() {
            return None;
        }
        let value = Arc::new(make());
        // SAFETY: ds is a new datastore we own until it is added; its data
        // is freed by `destroy::<T>`, which the info names.
        unsafe {
            (*ds).data = Box::into_raw(Box::new(value.clone())).cast();
            if sys::ast_channel_datastore_add(chan.as_ptr(), ds) != 0 {
                sys::ast_datastore_free(ds);
                return None;
            }
        }
        Some(value)
    }

    /// With the channel locked.
    fn find(&'static self, chan: Channel<'_>) -> Option<Arc<T>> {
        // SAFETY: the channel is live and locked by the caller; the info is
        // ours, so a datastore found holds a Box<Arc<T>>.
        unsafe {
            let ds = sys::ast_channel_datastore_find(chan.as_ptr(), &self.info, std::ptr::null());
            let data = ds.as_ref()?.data as *const Arc<T>;
            data.as_ref().cloned()
        }
    }
}
