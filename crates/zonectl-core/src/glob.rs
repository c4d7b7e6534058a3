//! Name patterns: `*` matches any run of characters, dots included, and everything else
//! matches itself. Ignore rules, the users of `serve`'s front ends and TSIG key scopes
//! all take these.

/// `*` matches any run of characters; everything else matches itself. Linear in the text
/// for each star: on a mismatch only the last star takes one more character, which is
/// enough, since an earlier star could only match what the later one can.
pub fn matches(pattern: &str, text: &str) -> bool {
    steps(pattern, text).0
}

/// [`matches`], and how many steps it took.
fn steps(pattern: &str, text: &str) -> (bool, usize) {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    // The last star seen, and the text position it was tried at.
    let mut star: Option<(usize, usize)> = None;
    let mut steps = 0;
    while ti < t.len() {
        steps += 1;
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((star_at, tried)) = star {
            pi = star_at + 1;
            ti = tried + 1;
            star = Some((star_at, tried + 1));
        } else {
            return (false, steps);
        }
    }
    (p[pi..].iter().all(|&b| b == b'*'), steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(matches("_acme-challenge*", "_acme-challenge.www"));
        assert!(matches("*.dev", "a.b.dev"));
        assert!(!matches("*.dev", "dev"));
        assert!(matches("*", "anything"));
        assert!(matches("*", ""));
        assert!(matches("www", "www"));
        assert!(!matches("www", "www2"));
        assert!(matches("a*b*c", "aXbYbZc"));
        assert!(!matches("a*b*c", "aXbYbZ"));
        assert!(matches("*a*", "bab"));
        assert!(matches("**", "x"));
    }

    #[test]
    fn a_glob_with_many_stars_takes_at_most_pattern_times_text_steps() {
        // The recursive matcher this replaced tried every split of the text at every star:
        // exponential in the stars on this input.
        let pattern = "*a".repeat(20) + "b";
        let text = "a".repeat(200);
        let (matched, steps) = steps(&pattern, &text);
        assert!(!matched);
        assert!(steps <= pattern.len() * text.len(), "{steps} steps");
    }

    #[test]
    fn names_with_stars_in_the_middle() {
        assert!(matches("_acme-challenge.*.example.com", "_acme-challenge.www.example.com"));
        assert!(matches("_acme-challenge.*.example.com", "_acme-challenge.a.b.example.com"));
        assert!(!matches("_acme-challenge.*.example.com", "_acme-challenge.example.com"));
        assert!(!matches("home.example.com", "home.example.com.evil"));
    }
}
