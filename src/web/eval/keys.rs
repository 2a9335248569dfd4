//! The API keys of the evaluation panel: read from the password fields at the moment a run
//! starts; kept in localStorage only when the person ticks "remember on this device" (and
//! removed by "Forget keys"); never logged, never saved with the settings, never exported,
//! never in a URL.

use crate::web::dom::{local_storage, set_text, set_value, value};

/// The password fields, target first.
pub const KEY_FIELDS: [&str; 2] = ["target-key", "judge-key"];
/// localStorage entry of remembered keys (only after the person opts in).
const KEYS_STORAGE: &str = "leakscope.eval.keys";

/// Stores the keys when "remember on this device" is ticked; says why when it cannot.
pub fn save_keys_if_asked() -> Result<(), String> {
    if value("remember-keys").is_empty() {
        return Ok(());
    }
    let keys: Vec<String> = KEY_FIELDS.iter().map(|id| value(id)).collect();
    let not_kept = "the keys are not remembered (this browser gives the page no storage); they \
                    stay in this tab only";
    let storage = local_storage().ok_or(not_kept)?;
    let text = serde_json::to_string(&keys).map_err(|e| e.to_string())?;
    storage
        .set_item(KEYS_STORAGE, &text)
        .map_err(|_| not_kept.to_owned())
}

pub fn restore_keys() {
    let Some(text) = local_storage().and_then(|s| s.get_item(KEYS_STORAGE).ok().flatten()) else {
        return;
    };
    if let Ok(keys) = serde_json::from_str::<Vec<String>>(&text) {
        for (id, key) in KEY_FIELDS.iter().zip(keys) {
            set_value(id, &key);
        }
        set_value("remember-keys", "true");
    }
}

/// Removes remembered keys from this browser; says so when the storage refuses.
pub fn forget_stored_keys() {
    let removed = local_storage().map(|storage| storage.remove_item(KEYS_STORAGE));
    if let Some(Err(e)) = removed {
        set_text(
            "eval-message",
            &format!("The remembered keys could not be removed ({e:?}): clear this site's data."),
        );
    }
}

pub fn forget_keys() {
    forget_stored_keys();
    for id in KEY_FIELDS {
        set_value(id, "");
    }
    set_value("remember-keys", "");
    set_text(
        "eval-message",
        "Keys forgotten: removed from the fields and from this browser's storage.",
    );
}
