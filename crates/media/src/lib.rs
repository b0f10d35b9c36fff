//! Lapor's image sanitising, as pure code (bytes in, bytes out; no I/O).
//!
//! Citizens' photos can carry where they were taken and with which camera
//! (EXIF, GPS, XMP, maker notes, embedded thumbnails). [`sanitize`] accepts
//! only JPEG, PNG and WebP (detected by their magic bytes, not by a name or a
//! content type the client chose), refuses decompression bombs, applies the
//! EXIF orientation to the pixels, and re-encodes the pixels alone as a
//! baseline JPEG: nothing of the original file but its picture survives.
//! The GPS position, if there was one, is read before it is dropped and only
//! returned to the caller, who decides whether the reporter wanted to share it.

use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage};
use std::io::Cursor;
use thiserror::Error;

/// Largest accepted picture, in pixels (width x height): 40 megapixels.
pub const MAX_PIXELS: u64 = 40_000_000;
/// Longest accepted side, in pixels.
pub const MAX_SIDE: u32 = 20_000;
/// Stored images are re-encoded at this JPEG quality.
pub const JPEG_QUALITY: u8 = 85;
/// Thumbnails fit in a square of this side.
pub const THUMB_SIDE: u32 = 320;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum MediaError {
    /// Not a JPEG, PNG or WebP file.
    #[error("not a supported image: send a JPEG, PNG or WebP photo")]
    Unsupported,
    /// It looks like a supported image but cannot be decoded (truncated,
    /// damaged).
    #[error("the image is damaged or incomplete ({0})")]
    Corrupt(String),
    /// Too many pixels (a decompression bomb, or simply too big).
    #[error(
        "the image is too large: {width}x{height} pixels (at most {MAX_PIXELS} pixels, {MAX_SIDE} per side)"
    )]
    TooLarge { width: u32, height: u32 },
    /// Re-encoding failed (should not happen for a decoded image).
    #[error("could not re-encode the image: {0}")]
    Encode(String),
}

/// The kinds of image accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Jpeg,
    Png,
    WebP,
}

impl Kind {
    fn format(self) -> ImageFormat {
        match self {
            Kind::Jpeg => ImageFormat::Jpeg,
            Kind::Png => ImageFormat::Png,
            Kind::WebP => ImageFormat::WebP,
        }
    }
}

/// The kind of image by its magic bytes, or `None`.
pub fn detect(bytes: &[u8]) -> Option<Kind> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Kind::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(Kind::Png)
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(Kind::WebP)
    } else {
        None
    }
}

/// A photo ready to store: a JPEG without any metadata, its thumbnail, and
/// what was learned from the original.
#[derive(Clone, PartialEq)]
pub struct Sanitized {
    /// The picture, re-encoded as JPEG (orientation applied, no metadata).
    pub image: Vec<u8>,
    /// A JPEG that fits in [`THUMB_SIDE`] x [`THUMB_SIDE`].
    pub thumb: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// (latitude, longitude) from the original's EXIF GPS tags, if any. It is
    /// never written into `image` or `thumb`.
    pub gps: Option<(f64, f64)>,
}

impl std::fmt::Debug for Sanitized {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sanitized")
            .field("image_bytes", &self.image.len())
            .field("thumb_bytes", &self.thumb.len())
            .field("width", &self.width)
            .field("height", &self.height)
            .field("gps", &self.gps.map(|_| "<present>"))
            .finish()
    }
}

fn corrupt(e: impl std::fmt::Display) -> MediaError {
    MediaError::Corrupt(e.to_string())
}

/// Checks the type, decodes within limits, applies the orientation and
/// re-encodes without metadata; also makes the thumbnail. CPU-bound: call it
/// from a blocking thread.
pub fn sanitize(bytes: &[u8]) -> Result<Sanitized, MediaError> {
    let kind = detect(bytes).ok_or(MediaError::Unsupported)?;
    if kind == Kind::Jpeg && !jpeg_complete(bytes) {
        return Err(MediaError::Corrupt("the JPEG data is truncated".into()));
    }
    let gps = read_gps(bytes);

    let mut reader = ImageReader::with_format(Cursor::new(bytes), kind.format());
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    // The decoded picture (at most 40 MP, up to 8 bytes a pixel for 16-bit
    // PNGs) plus the decoder's working memory.
    limits.max_alloc = Some(MAX_PIXELS * 8 + 64 * 1024 * 1024);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(decode_error)?;
    let (w, h) = decoder.dimensions();
    if w == 0 || h == 0 {
        return Err(MediaError::Corrupt("the image has no pixels".into()));
    }
    if u64::from(w) * u64::from(h) > MAX_PIXELS || w > MAX_SIDE || h > MAX_SIDE {
        return Err(MediaError::TooLarge {
            width: w,
            height: h,
        });
    }
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(decode_error)?;
    img.apply_orientation(orientation);

    let rgb = flatten(&img);
    let image = encode_jpeg(&rgb)?;
    let thumb_img = if rgb.width() <= THUMB_SIDE && rgb.height() <= THUMB_SIDE {
        rgb.clone()
    } else {
        DynamicImage::ImageRgb8(rgb.clone())
            .thumbnail(THUMB_SIDE, THUMB_SIDE)
            .to_rgb8()
    };
    let thumb = encode_jpeg(&thumb_img)?;
    Ok(Sanitized {
        image,
        thumb,
        width: rgb.width(),
        height: rgb.height(),
        gps,
    })
}

fn decode_error(e: image::ImageError) -> MediaError {
    match e {
        image::ImageError::Limits(_) => MediaError::TooLarge {
            width: 0,
            height: 0,
        },
        image::ImageError::Unsupported(_) => MediaError::Unsupported,
        other => corrupt(other),
    }
}

/// RGB pixels; transparency is composited over white (JPEG has no alpha).
fn flatten(img: &DynamicImage) -> RgbImage {
    if !img.color().has_alpha() {
        return img.to_rgb8();
    }
    let rgba = img.to_rgba8();
    let mut out = RgbImage::new(rgba.width(), rgba.height());
    for (dst, src) in out.pixels_mut().zip(rgba.pixels()) {
        let a = u32::from(src.0[3]);
        for c in 0..3 {
            let v = u32::from(src.0[c]) * a + 255 * (255 - a);
            dst.0[c] = ((v + 127) / 255) as u8;
        }
    }
    out
}

fn encode_jpeg(img: &RgbImage) -> Result<Vec<u8>, MediaError> {
    let mut out = Vec::with_capacity(img.as_raw().len() / 8);
    JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
        .encode_image(img)
        .map_err(|e| MediaError::Encode(e.to_string()))?;
    Ok(out)
}

/// Whether a JPEG's segments are intact up to the scan and the data ends
/// with an end-of-image marker after it. Lenient decoders fill a truncated
/// scan with grey; a photo cut off in transit should be refused instead.
fn jpeg_complete(b: &[u8]) -> bool {
    let mut i = 2; // after SOI
    loop {
        // Skip fill bytes before a marker.
        while i < b.len() && b[i] == 0xFF && b.get(i + 1) == Some(&0xFF) {
            i += 1;
        }
        if i + 4 > b.len() || b[i] != 0xFF {
            return false;
        }
        let marker = b[i + 1];
        let len = usize::from(u16::from_be_bytes([b[i + 2], b[i + 3]]));
        if len < 2 || i + 2 + len > b.len() {
            return false;
        }
        i += 2 + len;
        if marker == 0xDA {
            // Start of scan: the entropy-coded data follows; the image is
            // complete if an EOI marker comes after it.
            return b[i..].windows(2).any(|w| w == [0xFF, 0xD9]);
        }
    }
}

/// The GPS position in the original's EXIF, if present and sane.
fn read_gps(bytes: &[u8]) -> Option<(f64, f64)> {
    use exif::{In, Tag, Value};
    let exif = exif::Reader::new()
        .read_from_container(&mut Cursor::new(bytes))
        .ok()?;
    let coord = |tag: Tag, ref_tag: Tag, negative: u8| -> Option<f64> {
        let field = exif.get_field(tag, In::PRIMARY)?;
        let Value::Rational(parts) = &field.value else {
            return None;
        };
        if parts.is_empty() || parts.iter().any(|r| r.denom == 0) {
            return None;
        }
        let mut v = 0.0;
        for (r, scale) in parts.iter().zip([1.0, 60.0, 3600.0]) {
            v += r.to_f64() / scale;
        }
        let sign = match exif.get_field(ref_tag, In::PRIMARY).map(|f| &f.value) {
            Some(Value::Ascii(s)) if s.first().and_then(|s| s.first()) == Some(&negative) => -1.0,
            _ => 1.0,
        };
        Some(sign * v)
    };
    let lat = coord(Tag::GPSLatitude, Tag::GPSLatitudeRef, b'S')?;
    let lon = coord(Tag::GPSLongitude, Tag::GPSLongitudeRef, b'W')?;
    let ok = lat.is_finite()
        && lon.is_finite()
        && (-90.0..=90.0).contains(&lat)
        && (-180.0..=180.0).contains(&lon);
    ok.then_some((lat, lon))
}

/// Builders of test images with metadata, shared by this crate's tests and
/// the HTTP suites. Not for production use.
#[doc(hidden)]
pub mod testing {
    use super::*;

    /// A JPEG of `w` x `h` pixels with a gradient (so it compresses like a
    /// photo, not like a flat colour).
    pub fn jpeg(w: u32, h: u32) -> Vec<u8> {
        encode_jpeg(&gradient(w, h)).expect("encodes")
    }

    /// A PNG of `w` x `h` pixels with an alpha channel.
    pub fn png(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbaImage::from_fn(w, h, |x, y| {
            image::Rgba([
                (x % 256) as u8,
                (y % 256) as u8,
                90,
                if x < w / 2 { 255 } else { 128 },
            ])
        });
        let mut out = Vec::new();
        DynamicImage::ImageRgba8(img)
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .expect("encodes");
        out
    }

    fn gradient(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([
                (x * 255 / w.max(1)) as u8,
                (y * 255 / h.max(1)) as u8,
                ((x + y) % 256) as u8,
            ])
        })
    }

    /// A JPEG of `w` x `h` with an EXIF APP1 segment holding a camera make
    /// and model ("LaporCam", "Whistle 3000"), an orientation and a GPS
    /// position.
    pub fn jpeg_with_gps(w: u32, h: u32, lat: f64, lon: f64) -> Vec<u8> {
        with_exif(&jpeg(w, h), &exif_tiff(Some((lat, lon)), 1))
    }

    /// Inserts an APP1 "Exif" segment with `tiff` right after the SOI marker.
    pub fn with_exif(jpeg: &[u8], tiff: &[u8]) -> Vec<u8> {
        assert!(jpeg.starts_with(&[0xFF, 0xD8]), "not a JPEG");
        let len = u16::try_from(2 + 6 + tiff.len()).expect("EXIF fits a segment");
        let mut out = Vec::with_capacity(jpeg.len() + tiff.len() + 10);
        out.extend_from_slice(&[0xFF, 0xD8, 0xFF, 0xE1]);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(b"Exif\0\0");
        out.extend_from_slice(tiff);
        out.extend_from_slice(&jpeg[2..]);
        out
    }

    /// A big-endian TIFF structure as EXIF carries it: IFD0 with Make, Model,
    /// Orientation and (optionally) a GPS IFD with the position in
    /// degrees/minutes/seconds.
    pub fn exif_tiff(gps: Option<(f64, f64)>, orientation: u16) -> Vec<u8> {
        const ASCII: u16 = 2;
        const SHORT: u16 = 3;
        const LONG: u16 = 4;
        const RATIONAL: u16 = 5;
        let make = b"LaporCam\0";
        let model = b"Whistle 3000\0";
        let n0: u32 = if gps.is_some() { 4 } else { 3 };
        let ifd0_len = 2 + 12 * n0 + 4;
        let make_off = 8 + ifd0_len;
        let model_off = make_off + make.len() as u32;
        let gps_off = model_off + model.len() as u32;
        let gps_len = 2 + 12 * 4 + 4;
        let lat_off = gps_off + gps_len;
        let lon_off = lat_off + 24;

        let mut t: Vec<u8> = Vec::new();
        t.extend_from_slice(b"MM");
        t.extend_from_slice(&42u16.to_be_bytes());
        t.extend_from_slice(&8u32.to_be_bytes());
        let entry = |t: &mut Vec<u8>, tag: u16, typ: u16, count: u32, value: [u8; 4]| {
            t.extend_from_slice(&tag.to_be_bytes());
            t.extend_from_slice(&typ.to_be_bytes());
            t.extend_from_slice(&count.to_be_bytes());
            t.extend_from_slice(&value);
        };
        t.extend_from_slice(&(n0 as u16).to_be_bytes());
        entry(
            &mut t,
            0x010F,
            ASCII,
            make.len() as u32,
            make_off.to_be_bytes(),
        );
        entry(
            &mut t,
            0x0110,
            ASCII,
            model.len() as u32,
            model_off.to_be_bytes(),
        );
        let o = orientation.to_be_bytes();
        entry(&mut t, 0x0112, SHORT, 1, [o[0], o[1], 0, 0]);
        if gps.is_some() {
            entry(&mut t, 0x8825, LONG, 1, gps_off.to_be_bytes());
        }
        t.extend_from_slice(&0u32.to_be_bytes());
        t.extend_from_slice(make);
        t.extend_from_slice(model);
        if let Some((lat, lon)) = gps {
            let lat_ref = if lat < 0.0 { b'S' } else { b'N' };
            let lon_ref = if lon < 0.0 { b'W' } else { b'E' };
            t.extend_from_slice(&4u16.to_be_bytes());
            entry(&mut t, 0x0001, ASCII, 2, [lat_ref, 0, 0, 0]);
            entry(&mut t, 0x0002, RATIONAL, 3, lat_off.to_be_bytes());
            entry(&mut t, 0x0003, ASCII, 2, [lon_ref, 0, 0, 0]);
            entry(&mut t, 0x0004, RATIONAL, 3, lon_off.to_be_bytes());
            t.extend_from_slice(&0u32.to_be_bytes());
            for v in [lat, lon] {
                let v = v.abs();
                let deg = v.trunc();
                let min = ((v - deg) * 60.0).trunc();
                let sec = (v - deg - min / 60.0) * 3600.0;
                for (num, den) in [
                    (deg as u32, 1u32),
                    (min as u32, 1),
                    ((sec * 1000.0).round() as u32, 1000),
                ] {
                    t.extend_from_slice(&num.to_be_bytes());
                    t.extend_from_slice(&den.to_be_bytes());
                }
            }
        }
        t
    }

    /// Whether a JPEG has an APP1 segment (EXIF or XMP) before its scan.
    pub fn has_app1(jpeg: &[u8]) -> bool {
        let mut i = 2;
        while i + 4 <= jpeg.len() && jpeg[i] == 0xFF {
            let marker = jpeg[i + 1];
            if marker == 0xE1 {
                return true;
            }
            if marker == 0xDA {
                return false;
            }
            i += 2 + usize::from(u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]));
        }
        false
    }

    /// Whether `needle` occurs anywhere in `hay`.
    pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    fn decode(jpeg: &[u8]) -> DynamicImage {
        assert_eq!(detect(jpeg), Some(Kind::Jpeg));
        image::load_from_memory_with_format(jpeg, ImageFormat::Jpeg).expect("decodes as JPEG")
    }

    #[test]
    fn a_png_becomes_a_jpeg_with_a_thumbnail() {
        let s = sanitize(&png(800, 400)).unwrap();
        assert_eq!((s.width, s.height), (800, 400));
        assert_eq!(s.gps, None);
        let img = decode(&s.image);
        assert_eq!((img.width(), img.height()), (800, 400));
        let thumb = decode(&s.thumb);
        assert_eq!((thumb.width(), thumb.height()), (320, 160));
        assert!(s.thumb.len() < s.image.len());
    }

    #[test]
    fn a_jpeg_round_trips() {
        let s = sanitize(&jpeg(640, 480)).unwrap();
        assert_eq!((s.width, s.height), (640, 480));
        let img = decode(&s.image);
        assert_eq!((img.width(), img.height()), (640, 480));
        let thumb = decode(&s.thumb);
        assert_eq!((thumb.width(), thumb.height()), (320, 240));
    }

    #[test]
    fn a_webp_is_accepted() {
        let img = image::RgbImage::from_fn(400, 300, |x, y| image::Rgb([x as u8, y as u8, 7]));
        let mut webp = Vec::new();
        DynamicImage::ImageRgb8(img)
            .write_to(&mut Cursor::new(&mut webp), ImageFormat::WebP)
            .unwrap();
        assert_eq!(detect(&webp), Some(Kind::WebP));
        let s = sanitize(&webp).unwrap();
        assert_eq!((s.width, s.height), (400, 300));
        decode(&s.image);
    }

    #[test]
    fn small_images_keep_their_size_in_the_thumbnail() {
        let s = sanitize(&jpeg(100, 50)).unwrap();
        let thumb = decode(&s.thumb);
        assert_eq!((thumb.width(), thumb.height()), (100, 50));
    }

    #[test]
    fn gps_is_read_and_every_metadata_segment_dropped() {
        let original = jpeg_with_gps(640, 480, -6.2088, 106.8456);
        assert!(has_app1(&original) && contains(&original, b"LaporCam"));
        let s = sanitize(&original).unwrap();
        let (lat, lon) = s.gps.expect("gps read");
        assert!((lat - -6.2088).abs() < 1e-5, "lat {lat}");
        assert!((lon - 106.8456).abs() < 1e-5, "lon {lon}");
        for out in [&s.image, &s.thumb] {
            assert!(!has_app1(out));
            assert!(!contains(out, b"Exif"));
            assert!(!contains(out, b"LaporCam"));
            assert!(!contains(out, b"Whistle"));
            assert!(
                exif::Reader::new()
                    .read_from_container(&mut Cursor::new(out.as_slice()))
                    .is_err()
            );
        }
        decode(&s.image);
    }

    #[test]
    fn western_and_northern_positions_keep_their_sign() {
        let s = sanitize(&jpeg_with_gps(64, 64, 51.5007, -0.1246)).unwrap();
        let (lat, lon) = s.gps.unwrap();
        assert!((lat - 51.5007).abs() < 1e-5 && (lon - -0.1246).abs() < 1e-5);
    }

    #[test]
    fn the_exif_orientation_is_applied_to_the_pixels() {
        // 6 = rotate 90 degrees clockwise: a landscape original is stored
        // as portrait, with no orientation tag left to apply twice.
        let rotated = with_exif(&jpeg(200, 100), &exif_tiff(None, 6));
        let s = sanitize(&rotated).unwrap();
        assert_eq!((s.width, s.height), (100, 200));
        let img = decode(&s.image);
        assert_eq!((img.width(), img.height()), (100, 200));
        assert_eq!(s.gps, None);
    }

    #[test]
    fn text_is_not_an_image() {
        assert_eq!(
            sanitize(b"hello, this is not a photo").unwrap_err(),
            MediaError::Unsupported
        );
        assert_eq!(sanitize(b"").unwrap_err(), MediaError::Unsupported);
        // A GIF is an image, but not one we take.
        assert_eq!(
            sanitize(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;").unwrap_err(),
            MediaError::Unsupported
        );
    }

    #[test]
    fn truncated_images_are_corrupt_not_a_panic() {
        let full = jpeg(320, 240);
        for cut in [3, 20, full.len() / 3, full.len() / 2, full.len() - 2] {
            assert!(
                matches!(sanitize(&full[..cut]), Err(MediaError::Corrupt(_))),
                "JPEG cut at {cut}"
            );
        }
        let png = png(320, 240);
        // (A PNG cut inside its final IEND chunk still has every pixel.)
        for cut in [8, 40, png.len() / 4, png.len() / 2] {
            assert!(
                matches!(sanitize(&png[..cut]), Err(MediaError::Corrupt(_))),
                "PNG cut at {cut}"
            );
        }
    }

    #[test]
    fn decompression_bombs_are_refused_before_decoding() {
        // A valid PNG header claiming 50000 x 50000 pixels.
        let img = image::GrayImage::new(1, 1);
        let mut small = Vec::new();
        DynamicImage::ImageLuma8(img)
            .write_to(&mut Cursor::new(&mut small), ImageFormat::Png)
            .unwrap();
        // Patch IHDR width/height (bytes 16..24) and its CRC.
        small[16..20].copy_from_slice(&50_000u32.to_be_bytes());
        small[20..24].copy_from_slice(&50_000u32.to_be_bytes());
        let crc = crc32(&small[12..29]);
        small[29..33].copy_from_slice(&crc.to_be_bytes());
        assert!(matches!(sanitize(&small), Err(MediaError::TooLarge { .. })));
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
}
