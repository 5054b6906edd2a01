//! One module per screen.

pub mod connect;
pub mod dashboard;
pub mod meetings;
pub mod password;
pub mod scope;
pub mod settings;
pub mod signin;
pub mod sync;
pub mod uninstall;
pub mod users;

use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

/// The value of the `<input>` an event came from.
#[must_use]
pub fn input_value(e: &InputEvent) -> String {
    e.target_unchecked_into::<HtmlInputElement>().value()
}

/// The value of the `<select>` an event came from.
#[must_use]
pub fn select_value(e: &Event) -> String {
    e.target_unchecked_into::<HtmlSelectElement>().value()
}

/// Whether the checkbox an event came from is checked.
#[must_use]
pub fn checked(e: &Event) -> bool {
    e.target_unchecked_into::<HtmlInputElement>().checked()
}
