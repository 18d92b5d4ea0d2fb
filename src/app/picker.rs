//! A list to choose one item from, filtered as the operator types (`cutover init`'s cluster,
//! services and listener or rule). Pure: keys in, the choice out.

use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

#[derive(Debug, Clone)]
pub struct Picker {
    pub title: String,
    pub items: Vec<String>,
    pub filter: Input,
    /// Among the visible items.
    pub selected: usize,
    /// Whether Esc goes back to an earlier list (else it cancels: the first list).
    pub esc_goes_back: bool,
}

/// What a key did to the picker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Picked {
    Open,
    /// The index of the item chosen, in `items`.
    Chosen(usize),
    /// Esc: back to the list before this one (the first list has none: it cancels).
    Back,
    /// Ctrl-C: nothing chosen, nothing written.
    Cancelled,
}

impl Picker {
    pub fn new(title: impl Into<String>, items: Vec<String>) -> Self {
        Picker {
            title: title.into(),
            items,
            filter: Input::default(),
            selected: 0,
            esc_goes_back: false,
        }
    }

    /// A list after the first: Esc returns to the one before, keeping what was chosen there.
    pub fn after_another(mut self) -> Self {
        self.esc_goes_back = true;
        self
    }

    /// The items the filter lets through (any case, anywhere in the item), with their index.
    pub fn visible(&self) -> Vec<(usize, &str)> {
        let filter = self.filter.value().to_lowercase();
        self.items
            .iter()
            .enumerate()
            .filter(|(_, item)| item.to_lowercase().contains(&filter))
            .map(|(i, item)| (i, item.as_str()))
            .collect()
    }

    pub fn on_key(&mut self, key: KeyEvent) -> Picked {
        if !matches!(key.kind, KeyEventKind::Press | KeyEventKind::Repeat) {
            return Picked::Open;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let shown = self.visible().len();
        match key.code {
            KeyCode::Esc if self.esc_goes_back => Picked::Back,
            KeyCode::Esc => Picked::Cancelled,
            KeyCode::Char('c') if ctrl => Picked::Cancelled,
            KeyCode::Enter => self
                .visible()
                .get(self.selected)
                .map_or(Picked::Open, |(i, _)| Picked::Chosen(*i)),
            KeyCode::Up => {
                self.selected = self.selected.saturating_sub(1);
                Picked::Open
            }
            KeyCode::Char('p') if ctrl => {
                self.selected = self.selected.saturating_sub(1);
                Picked::Open
            }
            KeyCode::Down | KeyCode::Tab => {
                self.selected = (self.selected + 1).min(shown.saturating_sub(1));
                Picked::Open
            }
            KeyCode::Char('n') if ctrl => {
                self.selected = (self.selected + 1).min(shown.saturating_sub(1));
                Picked::Open
            }
            _ => {
                self.filter.handle_event(&Event::Key(key));
                self.selected = 0;
                Picked::Open
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(picker: &mut Picker, code: KeyCode) -> Picked {
        picker.on_key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    #[test]
    fn typing_filters_arrows_move_and_enter_chooses_from_what_is_shown() {
        let items = ["shop-blue", "shop-green", "cart-blue", "cart-green"];
        let mut picker = Picker::new("service", items.map(String::from).to_vec());
        for c in "GREEN".chars() {
            assert_eq!(press(&mut picker, KeyCode::Char(c)), Picked::Open);
        }
        assert_eq!(picker.visible(), [(1, "shop-green"), (3, "cart-green")]);
        press(&mut picker, KeyCode::Down);
        press(&mut picker, KeyCode::Down);
        assert_eq!(press(&mut picker, KeyCode::Enter), Picked::Chosen(3));
        press(&mut picker, KeyCode::Char('x'));
        assert_eq!(picker.visible(), []);
        assert_eq!(
            press(&mut picker, KeyCode::Enter),
            Picked::Open,
            "nothing to choose"
        );
        assert_eq!(press(&mut picker, KeyCode::Esc), Picked::Cancelled);
        let mut picker = picker.after_another();
        assert_eq!(press(&mut picker, KeyCode::Esc), Picked::Back);
        assert_eq!(
            picker.on_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Picked::Cancelled
        );
    }
}
