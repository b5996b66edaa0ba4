//! A message as a list of blocks: text, and attachments (images) that render as a
//! placeholder line, or as a preview where the terminal and build allow it.
//!
//! The protocol has no attachment type yet, so attachments are recognised in the text, one
//! per line: `[image: NAME](URL)`, markdown `![NAME](URL)`, or a bare URL ending in an image
//! extension. When attachments get a wire form, only [`blocks`] changes.

/// One block of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// Text (may span several lines).
    Text(String),
    /// An image attachment.
    Image {
        /// File name shown in the placeholder.
        name: String,
        /// Where the image is.
        url: String,
    },
}

const IMAGE_EXTENSIONS: &[&str] = &[".png", ".jpg", ".jpeg", ".gif", ".webp"];

/// Splits a message text into blocks.
pub fn blocks(text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut pending: Vec<&str> = Vec::new();
    for line in text.lines() {
        if let Some(image) = image(line.trim()) {
            if !pending.is_empty() {
                out.push(Block::Text(pending.join("\n")));
                pending.clear();
            }
            out.push(image);
        } else {
            pending.push(line);
        }
    }
    if !pending.is_empty() || out.is_empty() {
        out.push(Block::Text(pending.join("\n")));
    }
    out
}

fn image(line: &str) -> Option<Block> {
    let make = |name: &str, url: &str| Block::Image {
        name: name.trim().to_owned(),
        url: url.trim().to_owned(),
    };
    if let Some(rest) = line.strip_prefix("[image:") {
        let (name, tail) = rest.split_once(']')?;
        let url = tail.strip_prefix('(')?.strip_suffix(')')?;
        return Some(make(name, url));
    }
    if let Some(rest) = line.strip_prefix("![") {
        let (name, tail) = rest.split_once(']')?;
        let url = tail.strip_prefix('(')?.strip_suffix(')')?;
        return Some(make(name, url));
    }
    let is_url = line.starts_with("http://") || line.starts_with("https://");
    let lower = line.to_ascii_lowercase();
    if is_url
        && !line.contains(char::is_whitespace)
        && IMAGE_EXTENSIONS.iter().any(|e| lower.ends_with(e))
    {
        let name = line.rsplit('/').next().unwrap_or(line);
        return Some(make(name, line));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_one_block() {
        assert_eq!(blocks("hi\nthere"), vec![Block::Text("hi\nthere".into())]);
        assert_eq!(blocks(""), vec![Block::Text(String::new())]);
    }

    #[test]
    fn images_become_blocks_between_text() {
        let b = blocks("look:\n[image: cat.png](http://x/cat.png)\nnice\nhttps://h/a/dog.JPG");
        assert_eq!(
            b,
            vec![
                Block::Text("look:".into()),
                Block::Image {
                    name: "cat.png".into(),
                    url: "http://x/cat.png".into()
                },
                Block::Text("nice".into()),
                Block::Image {
                    name: "dog.JPG".into(),
                    url: "https://h/a/dog.JPG".into()
                },
            ]
        );
        assert_eq!(
            blocks("![plan](http://x/p.webp)"),
            vec![Block::Image {
                name: "plan".into(),
                url: "http://x/p.webp".into()
            }]
        );
        // Not an image: a URL inside a sentence, or another extension.
        assert_eq!(blocks("see http://x/a.png now").len(), 1);
        assert!(matches!(blocks("http://x/a.txt")[0], Block::Text(_)));
    }
}
