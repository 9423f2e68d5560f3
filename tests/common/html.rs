//! A deliberately small HTML form reader: enough to submit the landing page
//! the way a browser with scripts off would (forms, hidden inputs, buttons).

#[derive(Debug, Clone, Default)]
pub struct Form {
    pub action: String,
    pub method: String,
    /// Hidden and other inputs with a name: (name, value).
    pub fields: Vec<(String, String)>,
    /// Submit buttons: (name, value, text).
    pub buttons: Vec<(Option<String>, Option<String>, String)>,
    /// The form's inner HTML, lower-cased (to find approve/reject words).
    pub inner_lower: String,
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(pos) = lower[from..].find(name) {
        let at = from + pos;
        from = at + name.len();
        let before = lower[..at].chars().last().unwrap_or(' ');
        if !before.is_whitespace() {
            continue;
        }
        let rest = tag[at + name.len()..].trim_start();
        let Some(rest) = rest.strip_prefix('=') else {
            continue;
        };
        let rest = rest.trim_start();
        let value = if let Some(r) = rest.strip_prefix('"') {
            r.split('"').next().unwrap_or("")
        } else if let Some(r) = rest.strip_prefix('\'') {
            r.split('\'').next().unwrap_or("")
        } else {
            rest.split(|c: char| c.is_whitespace() || c == '>')
                .next()
                .unwrap_or("")
        };
        return Some(unescape(value));
    }
    None
}

pub fn unescape(s: &str) -> String {
    s.replace("&amp;", "&")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
}

/// Every `<form>` in the page.
pub fn forms(html: &str) -> Vec<Form> {
    let lower = html.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(start) = lower[from..].find("<form") {
        let start = from + start;
        let Some(tag_end) = lower[start..].find('>').map(|e| start + e) else {
            break;
        };
        let end = lower[tag_end..]
            .find("</form")
            .map(|e| tag_end + e)
            .unwrap_or(lower.len());
        let tag = &html[start..=tag_end];
        let inner = &html[tag_end + 1..end];
        let mut form = Form {
            action: attr(tag, "action").unwrap_or_default(),
            method: attr(tag, "method")
                .unwrap_or_else(|| "get".into())
                .to_ascii_lowercase(),
            inner_lower: inner.to_ascii_lowercase(),
            ..Form::default()
        };
        let inner_l = inner.to_ascii_lowercase();
        let mut i = 0;
        while let Some(p) = inner_l[i..].find('<') {
            let p = i + p;
            let Some(e) = inner_l[p..].find('>').map(|e| p + e) else {
                break;
            };
            let t = &inner[p..=e];
            let tl = &inner_l[p..=e];
            if tl.starts_with("<input") {
                let kind = attr(t, "type").unwrap_or_default().to_ascii_lowercase();
                if kind == "submit" {
                    form.buttons.push((
                        attr(t, "name"),
                        attr(t, "value"),
                        attr(t, "value").unwrap_or_default(),
                    ));
                } else if let Some(n) = attr(t, "name") {
                    form.fields.push((n, attr(t, "value").unwrap_or_default()));
                }
            } else if tl.starts_with("<button") {
                let text_end = inner_l[e..].find("</button").map(|x| e + x).unwrap_or(e);
                let text = inner[e + 1..text_end.max(e + 1)].trim().to_owned();
                let kind = attr(t, "type")
                    .unwrap_or_else(|| "submit".into())
                    .to_ascii_lowercase();
                if kind == "submit" {
                    form.buttons.push((attr(t, "name"), attr(t, "value"), text));
                }
            }
            i = e + 1;
        }
        out.push(form);
        from = end.max(tag_end + 1);
    }
    out
}

/// The POST form and button whose text, value, name or action mentions one of `words`.
/// Returns (action, urlencoded body).
pub fn submission(html: &str, words: &[&str]) -> Option<(String, String)> {
    for form in forms(html) {
        if form.method != "post" {
            continue;
        }
        let hit = |s: &str| {
            let s = s.to_ascii_lowercase();
            words.iter().any(|w| s.contains(w))
        };
        for (name, value, text) in &form.buttons {
            let b_hit = hit(text)
                || name.as_deref().map(hit).unwrap_or(false)
                || value.as_deref().map(hit).unwrap_or(false);
            let single = form.buttons.len() == 1 && hit(&form.action);
            if b_hit || single {
                let mut enc = url::form_urlencoded::Serializer::new(String::new());
                for (k, v) in &form.fields {
                    enc.append_pair(k, v);
                }
                if let Some(n) = name {
                    enc.append_pair(n, value.as_deref().unwrap_or(""));
                }
                return Some((form.action.clone(), enc.finish()));
            }
        }
    }
    None
}
