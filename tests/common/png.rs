//! A valid PNG of a chosen size, so Order Management image tests can upload a
//! real image.

/// A grey `w`×`h` 8-bit greyscale PNG.
pub fn grey(w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = ::png::Encoder::new(&mut out, w, h);
    encoder.set_color(::png::ColorType::Grayscale);
    encoder.set_depth(::png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    writer
        .write_image_data(&vec![0x80; (w * h) as usize])
        .unwrap();
    writer.finish().unwrap();
    out
}
