//! Data a module keeps on a channel it does not own, for as long as the
//! channel lives (a masquerade moves it with the channel): Asterisk's
//! datastores, holding an `Arc` of a Rust value. Each is [`Held`] until
//! Asterisk frees it, and `unload` takes them all back first
//! ([`ChannelData::take_from_all_channels`]): a datastore holds no
//! reference to the module, so a plain `module unload` is not refused
//! for one whose work is over.

use std::ffi::{c_void, CStr};
use std::marker::PhantomData;
use std::sync::Arc;

use super::channel::{for_each_channel, Channel};
use super::guard::guard;
use super::holdings::Held;
use super::sys;

/// One kind of channel data, declared once as a `static`.
pub struct ChannelData<T> {
    info: sys::ast_datastore_info,
    _holds: PhantomData<fn() -> T>,
}

// SAFETY: the info record is immutable after construction: a static type
// name and function pointers, which any thread may read.
unsafe impl<T> Sync for ChannelData<T> {}

/// What a datastore's data points to.
struct Stored<T> {
    value: Arc<T>,
    held: Held,
}

unsafe extern "C" fn destroy<T: Send + Sync + 'static>(data: *mut c_void) {
    if data.is_null() {
        return;
    }
    guard(
        || "freeing a channel's data".into(),
        (),
        || {
            // SAFETY: data is the Box<Stored<T>> made in get_or_insert;
            // Asterisk frees a datastore once, as the channel goes.
            drop(unsafe { Box::from_raw(data as *mut Stored<T>) });
        },
    );
}

/// A masquerade moves the datastore to `new`: the holding follows.
unsafe extern "C" fn fixup<T: Send + Sync + 'static>(
    data: *mut c_void,
    _old: *mut sys::ast_channel,
    new: *mut sys::ast_channel,
) {
    guard(
        || "moving a channel's data".into(),
        (),
        || {
            // SAFETY: data is our Stored<T>, live while its datastore is;
            // new is the live channel Asterisk moves it to.
            let (stored, new) =
                unsafe { ((data as *const Stored<T>).as_ref(), Channel::from_ptr(new)) };
            if let (Some(stored), Some(new)) = (stored, new) {
                stored.held.moved_to(&new.name());
            }
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
                chan_fixup: Some(fixup::<T>),
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
        // SAFETY: info is 'static; no module (see the module's comment); no uid.
        let ds = unsafe {
            sys::__ast_datastore_alloc(
                &self.info,
                std::ptr::null(),
                std::ptr::null_mut(),
                file.as_ptr(),
                line!() as i32,
                file.as_ptr(),
            )
        };
        if ds.is_null() {
            return None;
        }
        let value = Arc::new(make());
        let stored = Stored {
            value: value.clone(),
            held: Held::new("a datastore on", &chan.name()),
        };
        // SAFETY: ds is a new datastore we own until it is added; its data
        // is freed by `destroy::<T>`, which the info names.
        unsafe {
            (*ds).data = Box::into_raw(Box::new(stored)).cast();
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
        // ours, so a datastore found holds a Box<Stored<T>>.
        unsafe {
            let ds = sys::ast_channel_datastore_find(chan.as_ptr(), &self.info, std::ptr::null());
            let data = ds.as_ref()?.data as *const Stored<T>;
            data.as_ref().map(|s| s.value.clone())
        }
    }

    /// Takes this kind of data off every channel that has it and frees it,
    /// after `each` has seen it (with the channel locked): what `unload`
    /// does before the module's code goes. Returns how many were taken.
    pub fn take_from_all_channels(&'static self, mut each: impl FnMut(Channel<'_>, &T)) -> usize {
        let mut taken = 0;
        for_each_channel(|chan| {
            let _locked = chan.lock();
            loop {
                // SAFETY: live channel, locked; a datastore with our info
                // holds a Box<Stored<T>>, and once removed from the channel
                // it is ours alone to free.
                unsafe {
                    let ds = sys::ast_channel_datastore_find(
                        chan.as_ptr(),
                        &self.info,
                        std::ptr::null(),
                    );
                    if ds.is_null() || sys::ast_channel_datastore_remove(chan.as_ptr(), ds) != 0 {
                        break;
                    }
                    if let Some(stored) = ((*ds).data as *const Stored<T>).as_ref() {
                        each(chan, &stored.value);
                    }
                    sys::ast_datastore_free(ds);
                }
                taken += 1;
            }
        });
        taken
    }
}
