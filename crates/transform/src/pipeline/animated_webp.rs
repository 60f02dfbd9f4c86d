//! Animated WebP written frame by frame with libwebp's animation encoder. Each frame is handed
//! to the encoder and dropped: memory holds the encoder's state (frames already compressed, a
//! canvas or two), never every frame decoded. The `webp` crate's own animation encoder keeps
//! every frame until the end, hence this small wrapper over `libwebp-sys`.

use super::ProcessError;
use image::RgbaImage;
use libwebp_sys as ffi;
use std::mem::MaybeUninit;

/// An animation being written; [`AnimatedWebp::finish`] gives its bytes.
pub struct AnimatedWebp {
    encoder: *mut ffi::WebPAnimEncoder,
    config: ffi::WebPConfig,
    width: u32,
    height: u32,
}

impl AnimatedWebp {
    /// An endless-loop animation of `width`x`height` frames at `quality` (or lossless).
    pub fn new(width: u32, height: u32, quality: u8, lossless: bool) -> Result<Self, ProcessError> {
        let mut config =
            ffi::WebPConfig::new_with_preset(ffi::WebPPreset::WEBP_PRESET_DEFAULT, quality as f32)
                .map_err(|_| failed("configuration"))?;
        config.lossless = lossless as i32;
        // SAFETY: the options are initialised by libwebp before they are read; the encoder it
        // returns is owned by `Self` and deleted once, in `drop`.
        let encoder = unsafe {
            let mut options = MaybeUninit::<ffi::WebPAnimEncoderOptions>::uninit();
            let abi = ffi::WebPGetMuxABIVersion();
            if ffi::WebPAnimEncoderOptionsInitInternal(options.as_mut_ptr(), abi) == 0 {
                return Err(failed("options"));
            }
            let mut options = options.assume_init();
            options.anim_params.loop_count = 0;
            ffi::WebPAnimEncoderNewInternal(width as i32, height as i32, &options, abi)
        };
        if encoder.is_null() {
            return Err(failed("a new encoder"));
        }
        Ok(Self {
            encoder,
            config,
            width,
            height,
        })
    }

    /// Adds `frame`, shown from `timestamp_ms` (since the animation's start).
    pub fn add(&mut self, frame: &RgbaImage, timestamp_ms: i32) -> Result<(), ProcessError> {
        if frame.dimensions() != (self.width, self.height) {
            return Err(failed("a frame of another size"));
        }
        let mut picture = ffi::WebPPicture::new().map_err(|_| failed("a picture"))?;
        picture.use_argb = 1;
        picture.width = self.width as i32;
        picture.height = self.height as i32;
        // SAFETY: `frame` holds width*height RGBA pixels with a stride of width*4; libwebp copies
        // them into the picture, which is freed before returning.
        unsafe {
            let stride = (self.width * 4) as i32;
            if ffi::WebPPictureImportRGBA(&mut picture, frame.as_raw().as_ptr(), stride) == 0 {
                ffi::WebPPictureFree(&mut picture);
                return Err(failed("importing a frame"));
            }
            let added =
                ffi::WebPAnimEncoderAdd(self.encoder, &mut picture, timestamp_ms, &self.config);
            ffi::WebPPictureFree(&mut picture);
            if added == 0 {
                return Err(self.error("adding a frame"));
            }
        }
        Ok(())
    }

    /// Ends the animation at `end_ms` (the last frame's display ends there) and gives its bytes.
    pub fn finish(self, end_ms: i32) -> Result<Vec<u8>, ProcessError> {
        // SAFETY: a null frame marks the end; the assembled data is copied, then freed once.
        unsafe {
            ffi::WebPAnimEncoderAdd(self.encoder, std::ptr::null_mut(), end_ms, std::ptr::null());
            let mut data = ffi::WebPData::default();
            if ffi::WebPAnimEncoderAssemble(self.encoder, &mut data) == 0 {
                return Err(self.error("assembling"));
            }
            let bytes = std::slice::from_raw_parts(data.bytes, data.size).to_vec();
            ffi::WebPDataClear(&mut data);
            Ok(bytes)
        }
    }

    fn error(&self, doing: &str) -> ProcessError {
        // SAFETY: libwebp returns a pointer to a NUL-terminated message it owns, or null.
        let message = unsafe {
            let text = ffi::WebPAnimEncoderGetError(self.encoder);
            if text.is_null() {
                String::new()
            } else {
                std::ffi::CStr::from_ptr(text)
                    .to_string_lossy()
                    .into_owned()
            }
        };
        ProcessError::Encode(format!("animated WebP, {doing}: {message}"))
    }
}

impl Drop for AnimatedWebp {
    fn drop(&mut self) {
        // SAFETY: the encoder was created in `new` and is deleted only here.
        unsafe { ffi::WebPAnimEncoderDelete(self.encoder) }
    }
}

fn failed(doing: &str) -> ProcessError {
    ProcessError::Encode(format!("animated WebP: {doing} failed"))
}
