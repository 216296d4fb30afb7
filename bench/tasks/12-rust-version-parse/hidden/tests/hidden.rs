use semverlite::{latest, Version};

fn v(major: u64, minor: u64, patch: u64) -> Version {
    Version { major, minor, patch }
}

#[test]
fn leading_v_is_accepted() {
    assert_eq!(Version::parse("v1.4.0"), Ok(v(1, 4, 0)));
    assert_eq!(Version::parse("V2.0.1"), Ok(v(2, 0, 1)));
}

#[test]
fn missing_patch_defaults_to_zero() {
    assert_eq!(Version::parse("2.1"), Ok(v(2, 1, 0)));
    assert_eq!(Version::parse("v3.7"), Ok(v(3, 7, 0)));
}

#[test]
fn full_versions_still_parse() {
    assert_eq!(Version::parse(" 10.20.30 "), Ok(v(10, 20, 30)));
}

#[test]
fn invalid_inputs_rejected() {
    for bad in ["", "1", "v", "1.2.3.4", "1..2", "x1.2.3", "1.2.x", "vv1.2.3"] {
        assert!(Version::parse(bad).is_err(), "{bad:?} should be rejected");
    }
}

#[test]
fn latest_considers_all_tag_styles() {
    assert_eq!(latest(&["1.9.0", "v2.0.0", "2.1"]), Some(v(2, 1, 0)));
    assert_eq!(latest(&["junk"]), None);
}
