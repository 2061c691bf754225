//! The viewer's screen and keys: what is selected and filtered
//! ([`ViewState`]), how a key changes it ([`ViewState::key`]), and how the
//! [`Model`] is drawn ([`ViewState::render`]) — into a real terminal or a
//! ratatui `TestBackend`.
//!
//! ```text
//! ┌Tracks──────────┐┌Events: all tracks, all kinds─────────────────┐
//! │ all tracks  42 ││   0.001234  cpu        I  mode  to=long       │
//! │ cpu         30 ││ ...                                           │
//! ├Processes───────┤├Counters─────────────────────────────────────-─┤
//! │ 1 init         ││ instructions  123456                          │
//! └────────────────┘└───────────────────────────────────────────────┘
//!  LIVE  127.0.0.1:7070  packets 100  dropped 0   q quit  / filter ...
//! ```

use super::model::{seconds, Event, EventKind, Model};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, List, ListItem, ListState, Paragraph};
use ratatui::Frame;
use std::collections::HashSet;

/// Which kinds of events the feed shows (`k` cycles).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum KindFilter {
    #[default]
    All,
    Slices,
    Instants,
    Counters,
}

impl KindFilter {
    fn next(self) -> Self {
        match self {
            KindFilter::All => KindFilter::Slices,
            KindFilter::Slices => KindFilter::Instants,
            KindFilter::Instants => KindFilter::Counters,
            KindFilter::Counters => KindFilter::All,
        }
    }

    fn admits(self, k: EventKind) -> bool {
        match self {
            KindFilter::All => true,
            KindFilter::Slices => matches!(k, EventKind::SliceBegin | EventKind::SliceEnd),
            KindFilter::Instants => k == EventKind::Instant,
            KindFilter::Counters => k == EventKind::Counter,
        }
    }

    fn label(self) -> &'static str {
        match self {
            KindFilter::All => "all kinds",
            KindFilter::Slices => "slices",
            KindFilter::Instants => "instants",
            KindFilter::Counters => "counters",
        }
    }
}

/// Where the packets come from, for the status line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceState {
    /// Attached and receiving.
    Live,
    /// A recorded file, read whole.
    File,
    /// The live stream ended (the run finished, or an error).
    Ended(String),
}

/// Everything the viewer shows besides the model itself.
#[derive(Debug)]
pub struct ViewState {
    /// The source's name (address or file).
    pub source: String,
    pub state: SourceState,
    /// Selected row of the track list: 0 is "all tracks", then
    /// `Model::track_rows()`.
    pub selected: usize,
    pub kind: KindFilter,
    /// Case-insensitive text the events must contain.
    pub filter: String,
    /// Typing a filter (after `/`).
    pub editing: bool,
    /// Paused: the feed shows events up to this `seq` only.
    pub paused_at: Option<u64>,
    /// Matching events skipped from the bottom (PgUp/PgDn).
    pub scroll: usize,
    /// Lines of the last drawn feed, for paging.
    page: usize,
    pub quit: bool,
    /// Where `--save` writes, for the status line.
    pub saving: Option<String>,
}

impl ViewState {
    pub fn new(source: impl Into<String>, state: SourceState) -> Self {
        ViewState {
            source: source.into(),
            state,
            selected: 0,
            kind: KindFilter::All,
            filter: String::new(),
            editing: false,
            paused_at: None,
            scroll: 0,
            page: 10,
            quit: false,
            saving: None,
        }
    }

    /// Acts on one key press.
    pub fn key(&mut self, key: KeyEvent, model: &Model) {
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            self.quit = true;
            return;
        }
        if self.editing {
            match key.code {
                KeyCode::Enter => self.editing = false,
                KeyCode::Esc => {
                    self.editing = false;
                    self.filter.clear();
                }
                KeyCode::Backspace => {
                    self.filter.pop();
                }
                KeyCode::Char(c) => self.filter.push(c),
                _ => {}
            }
            self.scroll = 0;
            return;
        }
        let rows = model.track_rows().len() + 1;
        match key.code {
            KeyCode::Char('q') => self.quit = true,
            KeyCode::Up => self.selected = self.selected.saturating_sub(1),
            KeyCode::Down => self.selected = (self.selected + 1).min(rows - 1),
            KeyCode::Char('/') => self.editing = true,
            KeyCode::Esc => self.filter.clear(),
            KeyCode::Char('k') => {
                self.kind = self.kind.next();
                self.scroll = 0;
            }
            KeyCode::Char(' ') => {
                self.paused_at = match self.paused_at {
                    Some(_) => {
                        self.scroll = 0;
                        None
                    }
                    None => Some(model.events),
                }
            }
            KeyCode::PageUp => {
                // Scrolling back holds the feed still.
                self.paused_at.get_or_insert(model.events);
                self.scroll += self.page.max(1);
            }
            KeyCode::PageDown => self.scroll = self.scroll.saturating_sub(self.page.max(1)),
            KeyCode::End => {
                self.scroll = 0;
                self.paused_at = None;
            }
            _ => {}
        }
        if self.selected >= rows {
            self.selected = rows - 1;
        }
    }

    /// The tracks the selection covers (`None`: all).
    fn selected_tracks(&self, model: &Model) -> Option<HashSet<u64>> {
        let rows = model.track_rows();
        let (_, uuid) = *rows.get(self.selected.checked_sub(1)?)?;
        Some(model.subtree(uuid))
    }

    fn admits(&self, e: &Event, tracks: &Option<HashSet<u64>>, model: &Model) -> bool {
        if self.paused_at.is_some_and(|p| e.seq >= p) {
            return false;
        }
        if !self.kind.admits(e.kind) {
            return false;
        }
        if let Some(t) = tracks {
            if !t.contains(&e.track) {
                return false;
            }
        }
        if self.filter.is_empty() {
            return true;
        }
        let needle = self.filter.to_lowercase();
        [e.name.as_str(), e.args.as_str(), model.track_name(e.track)]
            .iter()
            .any(|s| s.to_lowercase().contains(&needle))
    }

    /// The feed's visible events, oldest first: `lines` of them, `scroll`
    /// matching events up from the newest.
    pub fn visible<'m>(&self, model: &'m Model, lines: usize) -> Vec<&'m Event> {
        let tracks = self.selected_tracks(model);
        let mut out: Vec<&Event> = model
            .feed
            .iter()
            .rev()
            .filter(|e| self.admits(e, &tracks, model))
            .skip(self.scroll)
            .take(lines)
            .collect();
        out.reverse();
        out
    }

    /// Draws the whole screen.
    pub fn render(&mut self, frame: &mut Frame, model: &Model) {
        let [main, status] =
            Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(frame.area());
        let [left, right] =
            Layout::horizontal([Constraint::Length(34), Constraint::Min(20)]).areas(main);
        let procs_height = (model.processes.len() as u16 + 2).clamp(3, left.height / 2);
        let [tracks, procs] =
            Layout::vertical([Constraint::Min(3), Constraint::Length(procs_height)]).areas(left);
        let counters = model.counters();
        let counters_height = (counters.len() as u16 + 2).clamp(3, right.height / 3);
        let [feed, counters_area] =
            Layout::vertical([Constraint::Min(3), Constraint::Length(counters_height)])
                .areas(right);

        self.render_tracks(frame, tracks, model);
        render_processes(frame, procs, model);
        self.render_feed(frame, feed, model);
        render_counters(frame, counters_area, model);
        self.render_status(frame, status, model);
    }

    fn render_tracks(&self, frame: &mut Frame, area: Rect, model: &Model) {
        let mut items = vec![row_line(0, "all tracks", model.events, area.width)];
        for (depth, uuid) in model.track_rows() {
            let t = &model.tracks[&uuid];
            items.push(row_line(depth, &t.name, t.events(), area.width));
        }
        let list = List::new(items.into_iter().map(ListItem::new))
            .block(Block::bordered().title("Tracks"))
            .highlight_style(Style::new().add_modifier(Modifier::REVERSED));
        let mut state = ListState::default().with_selected(Some(self.selected));
        frame.render_stateful_widget(list, area, &mut state);
    }

    fn render_feed(&mut self, frame: &mut Frame, area: Rect, model: &Model) {
        let lines = area.height.saturating_sub(2) as usize;
        self.page = lines.saturating_sub(1).max(1);
        let track = match self.selected.checked_sub(1) {
            None => "all tracks".to_string(),
            Some(i) => model
                .track_rows()
                .get(i)
                .map_or("?".into(), |&(_, u)| model.track_name(u).to_string()),
        };
        let mut title = format!("Events: {track}, {}", self.kind.label());
        if !self.filter.is_empty() || self.editing {
            title += &format!(", \"{}\"", self.filter);
        }
        if self.scroll > 0 {
            title += &format!(", {} back", self.scroll);
        }
        let name_width = 16;
        let text: Vec<Line> = self
            .visible(model, lines)
            .into_iter()
            .map(|e| {
                let ts = e.timestamp.map_or("-".into(), seconds);
                let what = match e.value {
                    Some(v) if e.name.is_empty() => format!("= {v}"),
                    Some(v) => format!("{} = {v}", e.name),
                    None => e.name.clone(),
                };
                Line::from(vec![
                    Span::styled(format!("{ts:>12} "), Style::new().fg(Color::DarkGray)),
                    Span::styled(
                        format!("{:<name_width$.name_width$} ", model.track_name(e.track)),
                        Style::new().fg(Color::Cyan),
                    ),
                    Span::styled(format!("{} ", e.kind.letter()), kind_style(e.kind)),
                    Span::raw(what),
                    Span::styled(format!("  {}", e.args), Style::new().fg(Color::DarkGray)),
                ])
            })
            .collect();
        frame.render_widget(
            Paragraph::new(text).block(Block::bordered().title(title)),
            area,
        );
    }

    fn render_status(&self, frame: &mut Frame, area: Rect, model: &Model) {
        let (label, style) = match (&self.state, self.paused_at) {
            (_, Some(_)) => (" PAUSED ".to_string(), Style::new().bg(Color::Yellow)),
            (SourceState::Live, None) => (" LIVE ".to_string(), Style::new().bg(Color::Green)),
            (SourceState::File, None) => (" FILE ".to_string(), Style::new().bg(Color::Blue)),
            (SourceState::Ended(why), None) => {
                (format!(" ENDED: {why} "), Style::new().bg(Color::Red))
            }
        };
        let mut spans = vec![
            Span::styled(label, style.fg(Color::Black)),
            Span::raw(format!(
                " {}  packets {}  events {}  dropped {}",
                self.source, model.packets, model.events, model.dropped_events
            )),
        ];
        if let Some(s) = &self.saving {
            spans.push(Span::raw(format!("  saving {s}")));
        }
        let keys = if self.editing {
            "  type a filter, Enter keeps it, Esc clears it"
        } else {
            "  q quit  ↑↓ track  / filter  k kind  space pause  PgUp/PgDn scroll"
        };
        spans.push(Span::styled(keys, Style::new().fg(Color::DarkGray)));
        frame.render_widget(Paragraph::new(Line::from(spans)), area);
    }
}

fn render_processes(frame: &mut Frame, area: Rect, model: &Model) {
    let items: Vec<ListItem> = model
        .processes
        .values()
        .map(|p| {
            let threads = match p.threads.len() {
                0 => String::new(),
                1 => " (1 thread)".into(),
                n => format!(" ({n} threads)"),
            };
            ListItem::new(format!("{:>5} {}{threads}", p.pid, p.name))
        })
        .collect();
    let title = format!("Processes ({})", model.processes.len());
    frame.render_widget(List::new(items).block(Block::bordered().title(title)), area);
}

fn render_counters(frame: &mut Frame, area: Rect, model: &Model) {
    let items: Vec<ListItem> = model
        .counters()
        .into_iter()
        .map(|t| {
            let value = t.last_value.map_or("-".into(), |v| v.to_string());
            let unit = t.unit.as_deref().unwrap_or("");
            ListItem::new(format!("{:<24} {value:>16} {unit}", t.name))
        })
        .collect();
    frame.render_widget(
        List::new(items).block(Block::bordered().title("Counters")),
        area,
    );
}

/// A track-list row: indented name, event count at the right.
fn row_line(depth: usize, name: &str, events: u64, width: u16) -> Line<'static> {
    let inner = width.saturating_sub(2) as usize;
    let count = events.to_string();
    let indent = "  ".repeat(depth.min(6));
    let room = inner.saturating_sub(count.len() + 1 + indent.len());
    let name: String = name.chars().take(room).collect();
    let pad = inner.saturating_sub(indent.len() + name.chars().count() + count.len());
    Line::from(format!("{indent}{name}{}{count}", " ".repeat(pad)))
}

fn kind_style(k: EventKind) -> Style {
    Style::new().fg(match k {
        EventKind::SliceBegin => Color::Green,
        EventKind::SliceEnd => Color::Red,
        EventKind::Instant => Color::Yellow,
        EventKind::Counter => Color::Magenta,
    })
}
