//! `sh`: a small shell.
//!
//! - `sh` reads commands from standard input, with a prompt showing the
//!   working directory when interactive (`-i`, or standard input is a
//!   terminal); `sh -c 'LINE'` runs one line; `sh FILE` runs a script.
//! - Words with `'single'` and `"double"` quotes and `\` escapes; `$NAME`,
//!   `${NAME}`, `$?` (the last status) and `$$` expand outside single
//!   quotes (no field splitting, no globbing); `~` at a word's start is
//!   `$HOME`; `#` starts a comment.
//! - Pipelines of any length (`a | b | c`); redirections `<`, `>`, `>>`,
//!   `2>`, `2>>`, `2>&1`, `>&2`; `&` runs a pipeline in the background
//!   (its end is reported before a later prompt); `;`, `&&`, `||`.
//! - `NAME=value` alone sets a variable (all variables are exported);
//!   before a command it sets it for that command only.
//! - Built in: `cd [DIR]`, `exit [N]`, `export NAME=value...`,
//!   `unset NAME...`, `jobs`; `kill %N` names job N's processes.
//!   Everything else is looked up in `$PATH`.

#![no_std]
#![no_main]

use ulib::io::{self, LineReader, STDIN};
use ulib::prelude::*;
use ulib::process::{self, WaitStatus};
use ulib::{env, sys};

ulib::main!(main);

/// A lexical token.
/// A piece of a word, expanded when its command runs (so `false; echo $?`
/// sees the status of `false`).
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Literal(String),
    /// `$NAME`, `${NAME}`, `$?`, `$$`.
    Variable(String),
    /// `~` at the start of a word.
    Home,
}

type Word = Vec<Piece>;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(Word),
    Pipe,
    Background,
    Semicolon,
    And,
    Or,
    /// A redirection: the descriptor, what it does.
    Redirect(i32, RedirectKind),
}

#[derive(Debug, Clone, PartialEq)]
enum RedirectKind {
    Read,
    Write,
    Append,
    /// `N>&M`: duplicate descriptor M.
    Dup(i32),
}

#[derive(Debug, Clone)]
struct Redirect {
    fd: i32,
    kind: RedirectKind,
    /// The file (empty for `Dup`).
    path: Word,
}

#[derive(Debug, Default, Clone)]
struct Command {
    assignments: Vec<(String, Word)>,
    argv: Vec<Word>,
    redirects: Vec<Redirect>,
}

#[derive(Debug, Default)]
struct Pipeline {
    commands: Vec<Command>,
    background: bool,
    text: String,
}

/// How a pipeline joins the previous one.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Join {
    Always,
    IfSuccess,
    IfFailure,
}

struct Job {
    id: usize,
    pids: Vec<i32>,
    text: String,
    /// The pipeline's last process, whose end is the job's status.
    last_pid: i32,
    /// How it ended, once it has.
    last: Option<WaitStatus>,
}

struct Shell {
    status: i32,
    interactive: bool,
    jobs: Vec<Job>,
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Reads a `$` expansion at `chars[*i]` (just past the `$`) into `word`.
fn dollar(chars: &[char], i: &mut usize, word: &mut Word) {
    let piece = match chars.get(*i) {
        Some(&c) if c == '?' || c == '$' => {
            *i += 1;
            Piece::Variable(c.to_string())
        }
        Some('{') => {
            let start = *i + 1;
            match chars[start..].iter().position(|&c| c == '}') {
                Some(len) => {
                    *i = start + len + 1;
                    Piece::Variable(chars[start..start + len].iter().collect())
                }
                None => Piece::Literal(String::from("$")),
            }
        }
        Some(&c) if is_name_start(c) => {
            let start = *i;
            while chars.get(*i).is_some_and(|&c| is_name_char(c)) {
                *i += 1;
            }
            Piece::Variable(chars[start..*i].iter().collect())
        }
        _ => Piece::Literal(String::from("$")),
    };
    word.push(piece);
}

/// Appends literal text to a word.
fn push_text(word: &mut Word, c: char) {
    if let Some(Piece::Literal(s)) = word.last_mut() {
        s.push(c);
    } else {
        word.push(Piece::Literal(c.to_string()));
    }
}

impl Shell {
    fn variable(&self, name: &str) -> String {
        match name {
            "?" => self.status.to_string(),
            "$" => sys::getpid().to_string(),
            _ => env::var(name).unwrap_or_default(),
        }
    }

    /// A word's text now.
    fn expand(&self, word: &Word) -> String {
        let mut out = String::new();
        for piece in word {
            match piece {
                Piece::Literal(s) => out.push_str(s),
                Piece::Variable(name) => out.push_str(&self.variable(name)),
                Piece::Home => out.push_str(&env::var("HOME").unwrap_or_else(|| String::from("/"))),
            }
        }
        out
    }
}

/// Splits a line into tokens.
fn tokenize(line: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = line.chars().collect();
    let mut tokens = Vec::new();
    let mut word = Word::new();
    // Whether a word is being built (quotes can make an empty one).
    let mut in_word = false;
    // Whether any of the word was quoted (`"2">x` is not `2>`).
    let mut quoted = false;
    let mut i = 0;
    macro_rules! end_word {
        () => {
            if in_word {
                tokens.push(Token::Word(core::mem::take(&mut word)));
                in_word = false;
                quoted = false;
            }
        };
    }
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\r' | '\n' => {
                end_word!();
                i += 1;
            }
            '#' if !in_word => break,
            '\'' => {
                let Some(len) = chars[i + 1..].iter().position(|&c| c == '\'') else {
                    return Err(String::from("unterminated quote '"));
                };
                for &c in &chars[i + 1..i + 1 + len] {
                    push_text(&mut word, c);
                }
                in_word = true;
                quoted = true;
                i += len + 2;
            }
            '"' => {
                in_word = true;
                quoted = true;
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(String::from("unterminated quote \"")),
                        Some('"') => {
                            i += 1;
                            break;
                        }
                        Some('\\') if matches!(chars.get(i + 1), Some('"' | '\\' | '$' | '`')) => {
                            push_text(&mut word, chars[i + 1]);
                            i += 2;
                        }
                        Some('$') => {
                            i += 1;
                            dollar(&chars, &mut i, &mut word);
                        }
                        Some(&c) => {
                            push_text(&mut word, c);
                            i += 1;
                        }
                    }
                }
            }
            '\\' => {
                if let Some(&next) = chars.get(i + 1) {
                    push_text(&mut word, next);
                }
                in_word = true;
                quoted = true;
                i += 2;
            }
            '$' => {
                i += 1;
                dollar(&chars, &mut i, &mut word);
                in_word = true;
            }
            '~' if !in_word && matches!(chars.get(i + 1), None | Some('/' | ' ')) => {
                word.push(Piece::Home);
                in_word = true;
                i += 1;
            }
            '|' | '&' | ';' | '<' | '>' => {
                // `2>` (a bare unquoted 2 just before) redirects stderr.
                let mut fd = None;
                if (c == '>' || c == '<')
                    && in_word
                    && !quoted
                    && let [Piece::Literal(text)] = word.as_slice()
                    && let Some(d) = text
                        .parse::<u8>()
                        .ok()
                        .filter(|&d| d <= 9 && text.len() == 1)
                {
                    fd = Some(i32::from(d));
                    word.clear();
                    in_word = false;
                }
                end_word!();
                let next = chars.get(i + 1).copied();
                let (token, len) = match (c, next) {
                    ('|', Some('|')) => (Token::Or, 2),
                    ('|', _) => (Token::Pipe, 1),
                    ('&', Some('&')) => (Token::And, 2),
                    ('&', _) => (Token::Background, 1),
                    (';', _) => (Token::Semicolon, 1),
                    ('<', _) => (Token::Redirect(fd.unwrap_or(0), RedirectKind::Read), 1),
                    ('>', Some('>')) => (Token::Redirect(fd.unwrap_or(1), RedirectKind::Append), 2),
                    ('>', Some('&')) => {
                        let Some(target) = chars.get(i + 2).and_then(|d| d.to_digit(10)) else {
                            return Err(String::from("syntax error near '>&'"));
                        };
                        (
                            Token::Redirect(fd.unwrap_or(1), RedirectKind::Dup(target as i32)),
                            3,
                        )
                    }
                    _ => (Token::Redirect(fd.unwrap_or(1), RedirectKind::Write), 1),
                };
                tokens.push(token);
                i += len;
            }
            _ => {
                push_text(&mut word, c);
                in_word = true;
                i += 1;
            }
        }
    }
    if in_word {
        tokens.push(Token::Word(word));
    }
    Ok(tokens)
}

/// Whether `text` is `NAME=value`.
fn assignment(text: &str) -> Option<(String, String)> {
    let (name, value) = text.split_once('=')?;
    let mut chars = name.chars();
    (chars.next().is_some_and(is_name_start) && chars.all(is_name_char))
        .then(|| (String::from(name), String::from(value)))
}

/// Whether a word is `NAME=value` (the name unquoted and literal): the
/// name and the value's pieces.
fn word_assignment(word: &Word) -> Option<(String, Word)> {
    let Some(Piece::Literal(first)) = word.first() else {
        return None;
    };
    let (name, rest) = assignment(first)?;
    let mut value = Word::new();
    if !rest.is_empty() {
        value.push(Piece::Literal(rest));
    }
    value.extend_from_slice(&word[1..]);
    Some((name, value))
}

/// Groups tokens into pipelines joined by `;`, `&&`, `||`.
fn parse(tokens: Vec<Token>) -> Result<Vec<(Join, Pipeline)>, String> {
    let mut list = Vec::new();
    let mut join = Join::Always;
    let mut pipeline = Pipeline::default();
    let mut command = Command::default();
    let mut tokens = tokens.into_iter().peekable();
    let empty =
        |c: &Command| c.argv.is_empty() && c.assignments.is_empty() && c.redirects.is_empty();
    while let Some(token) = tokens.next() {
        match token {
            Token::Word(w) => {
                if command.argv.is_empty()
                    && let Some(a) = word_assignment(&w)
                {
                    command.assignments.push(a);
                    continue;
                }
                command.argv.push(w);
            }
            Token::Redirect(fd, kind) => {
                let path = match kind {
                    RedirectKind::Dup(_) => Word::new(),
                    _ => match tokens.next() {
                        Some(Token::Word(w)) => w,
                        _ => {
                            return Err(String::from(
                                "syntax error: a redirection needs a file name",
                            ));
                        }
                    },
                };
                command.redirects.push(Redirect { fd, kind, path });
            }
            Token::Pipe => {
                if empty(&command) {
                    return Err(String::from("syntax error near '|'"));
                }
                pipeline.commands.push(core::mem::take(&mut command));
            }
            Token::Background | Token::Semicolon | Token::And | Token::Or => {
                if empty(&command) {
                    if pipeline.commands.is_empty() && token == Token::Semicolon && list.is_empty()
                    {
                        continue;
                    }
                    return Err(String::from("syntax error near an operator"));
                }
                pipeline.commands.push(core::mem::take(&mut command));
                pipeline.background = token == Token::Background;
                list.push((join, core::mem::take(&mut pipeline)));
                join = match token {
                    Token::And => Join::IfSuccess,
                    Token::Or => Join::IfFailure,
                    _ => Join::Always,
                };
            }
        }
    }
    if empty(&command) {
        if !pipeline.commands.is_empty() || join != Join::Always {
            return Err(String::from("syntax error: unexpected end of line"));
        }
    } else {
        pipeline.commands.push(command);
        list.push((join, pipeline));
    }
    for (_, p) in &mut list {
        p.text = pipeline_text(p);
    }
    Ok(list)
}

/// A word as it could be typed again (for job reports).
fn word_text(word: &Word) -> String {
    let mut out = String::new();
    for piece in word {
        match piece {
            Piece::Literal(s)
                if s.is_empty()
                    || s.contains([' ', '\t', '$', '\'', '"', '|', '&', ';', '<', '>']) =>
            {
                out.push('\'');
                out.push_str(s);
                out.push('\'');
            }
            Piece::Literal(s) => out.push_str(s),
            Piece::Variable(name) => {
                out.push_str("${");
                out.push_str(name);
                out.push('}');
            }
            Piece::Home => out.push('~'),
        }
    }
    out
}

/// A pipeline as it could be typed again, without the `&`.
fn pipeline_text(p: &Pipeline) -> String {
    let commands: Vec<String> = p
        .commands
        .iter()
        .map(|c| {
            let mut parts: Vec<String> = c
                .assignments
                .iter()
                .map(|(k, v)| format!("{k}={}", word_text(v)))
                .collect();
            parts.extend(c.argv.iter().map(word_text));
            for r in &c.redirects {
                let fd = match (r.fd, &r.kind) {
                    (0, RedirectKind::Read)
                    | (1, RedirectKind::Write | RedirectKind::Append | RedirectKind::Dup(_)) => {
                        String::new()
                    }
                    (fd, _) => fd.to_string(),
                };
                parts.push(match r.kind {
                    RedirectKind::Read => format!("{fd}< {}", word_text(&r.path)),
                    RedirectKind::Write => format!("{fd}> {}", word_text(&r.path)),
                    RedirectKind::Append => format!("{fd}>> {}", word_text(&r.path)),
                    RedirectKind::Dup(target) => format!("{fd}>&{target}"),
                });
            }
            parts.join(" ")
        })
        .collect();
    commands.join(" | ")
}

/// Applies redirections (paths expanded) in the current process (a child
/// about to exec).
fn apply_redirects(redirects: &[(Redirect, String)]) -> Result<(), String> {
    for (r, path) in redirects {
        let fd = match r.kind {
            RedirectKind::Dup(target) => {
                sys::dup2(target, r.fd).map_err(|e| format!("{}: {e}", target))?;
                continue;
            }
            RedirectKind::Read => sys::open(path, sys::O_RDONLY, 0),
            RedirectKind::Write => {
                sys::open(path, sys::O_WRONLY | sys::O_CREAT | sys::O_TRUNC, 0o644)
            }
            RedirectKind::Append => {
                sys::open(path, sys::O_WRONLY | sys::O_CREAT | sys::O_APPEND, 0o644)
            }
        }
        .map_err(|e| format!("{path}: {e}"))?;
        if fd != r.fd {
            sys::dup2(fd, r.fd).map_err(|e| format!("{path}: {e}"))?;
            let _ = sys::close(fd);
        }
    }
    Ok(())
}

const BUILTINS: [&str; 5] = ["cd", "exit", "export", "unset", "jobs"];

impl Shell {
    /// Runs a built-in command in this process; its status.
    fn builtin(&mut self, argv: &[String]) -> i32 {
        match argv[0].as_str() {
            "cd" => {
                let home = env::var("HOME").unwrap_or_else(|| String::from("/"));
                let dir = argv.get(1).cloned().unwrap_or(home);
                match sys::chdir(&dir) {
                    Ok(()) => {
                        if let Ok(cwd) = ulib::fs::cwd() {
                            env::set_var("PWD", &cwd);
                        }
                        0
                    }
                    Err(e) => {
                        eprintln!("sh: cd: {dir}: {e}");
                        1
                    }
                }
            }
            "exit" => {
                let code = match argv.get(1) {
                    None => self.status,
                    Some(a) => match a.parse::<i32>() {
                        Ok(n) => n & 0xff,
                        Err(_) => {
                            eprintln!("sh: exit: {a}: numeric argument required");
                            2
                        }
                    },
                };
                sys::exit(code)
            }
            "export" => {
                for a in &argv[1..] {
                    if let Some((k, v)) = assignment(a) {
                        env::set_var(&k, &v);
                    }
                }
                0
            }
            "unset" => {
                for a in &argv[1..] {
                    env::remove_var(a);
                }
                0
            }
            "jobs" => {
                self.reap_jobs();
                for job in &self.jobs {
                    println!("[{}]  Running                 {}", job.id, job.text);
                }
                0
            }
            _ => 127,
        }
    }

    /// In a forked child: redirect, set the command's variables, exec.
    fn exec_child(
        &mut self,
        command: &Command,
        stdin: sys::Fd,
        stdout: sys::Fd,
        background: bool,
    ) -> ! {
        let signals = [sys::SIGINT, sys::SIGQUIT];
        for sig in signals {
            // Background jobs of a shell without job control ignore the
            // keyboard's signals (POSIX 2.11); foreground ones get them back.
            let disposition = if background {
                sys::SIG_IGN
            } else {
                sys::SIG_DFL
            };
            let _ = sys::signal_disposition(sig, disposition);
        }
        if stdin != STDIN {
            let _ = sys::dup2(stdin, STDIN);
            let _ = sys::close(stdin);
        } else if background && !command.redirects.iter().any(|r| r.fd == 0) {
            // A background job does not read the terminal.
            if let Ok(null) = sys::open("/dev/null", sys::O_RDONLY, 0) {
                let _ = sys::dup2(null, STDIN);
                let _ = sys::close(null);
            }
        }
        if stdout != io::STDOUT {
            let _ = sys::dup2(stdout, io::STDOUT);
            let _ = sys::close(stdout);
        }
        let redirects: Vec<(Redirect, String)> = command
            .redirects
            .iter()
            .map(|r| (r.clone(), self.expand(&r.path)))
            .collect();
        if let Err(msg) = apply_redirects(&redirects) {
            eprintln!("sh: {msg}");
            sys::exit(1);
        }
        for (k, v) in &command.assignments {
            let v = self.expand(v);
            env::set_var(k, &v);
        }
        let mut argv: Vec<String> = command.argv.iter().map(|w| self.expand(w)).collect();
        if argv.is_empty() {
            sys::exit(0);
        }
        if argv[0] == "kill" {
            argv = self.job_pids(argv);
        }
        let name = &argv[0];
        if BUILTINS.contains(&name.as_str()) {
            let status = self.builtin(&argv);
            sys::exit(status);
        }
        let path_var = env::var("PATH").unwrap_or_else(|| String::from("/bin:/sbin"));
        let Some(path) = process::find_in_path(name, &path_var) else {
            eprintln!("sh: {name}: not found");
            sys::exit(127);
        };
        let e = process::exec(&path, &argv, &env::vars());
        eprintln!("sh: {name}: {e}");
        sys::exit(if e == Errno::ENOENT { 127 } else { 126 })
    }

    /// Runs one pipeline; its status (0 for a background one).
    fn run_pipeline(&mut self, pipeline: &Pipeline) -> i32 {
        let commands = &pipeline.commands;
        // Alone in the foreground, assignments and built-ins change the
        // shell itself.
        if commands.len() == 1 && !pipeline.background {
            let c = &commands[0];
            if c.argv.is_empty() && c.redirects.is_empty() {
                for (k, v) in &c.assignments {
                    let v = self.expand(v);
                    env::set_var(k, &v);
                }
                return 0;
            }
            let argv: Vec<String> = c.argv.iter().map(|w| self.expand(w)).collect();
            if argv.first().is_some_and(|n| BUILTINS.contains(&n.as_str())) {
                if !c.redirects.is_empty() {
                    eprintln!(
                        "sh: {}: redirections of built-ins are not supported",
                        argv[0]
                    );
                    return 1;
                }
                return self.builtin(&argv);
            }
        }
        let mut pids = Vec::new();
        let mut stdin = STDIN;
        let mut failed = None;
        for (k, command) in commands.iter().enumerate() {
            let last = k + 1 == commands.len();
            let (next_stdin, stdout) = if last {
                (STDIN, io::STDOUT)
            } else {
                match sys::pipe() {
                    Ok(p) => p,
                    Err(e) => {
                        failed = Some(format!("pipe: {e}"));
                        break;
                    }
                }
            };
            match sys::fork() {
                Ok(0) => {
                    if next_stdin != STDIN {
                        let _ = sys::close(next_stdin);
                    }
                    self.exec_child(command, stdin, stdout, pipeline.background)
                }
                Ok(pid) => pids.push(pid),
                Err(e) => failed = Some(format!("fork: {e}")),
            }
            if stdin != STDIN {
                let _ = sys::close(stdin);
            }
            if stdout != io::STDOUT {
                let _ = sys::close(stdout);
            }
            stdin = next_stdin;
            if failed.is_some() {
                break;
            }
        }
        if stdin != STDIN {
            let _ = sys::close(stdin);
        }
        if let Some(msg) = &failed {
            eprintln!("sh: {msg}");
        }
        if pipeline.background {
            if let Some(&last) = pids.last() {
                let id = self.jobs.iter().map(|j| j.id).max().unwrap_or(0) + 1;
                if self.interactive {
                    eprintln!("[{id}] {last}");
                }
                self.jobs.push(Job {
                    id,
                    pids,
                    text: pipeline.text.clone(),
                    last_pid: last,
                    last: None,
                });
            }
            return if failed.is_some() { 1 } else { 0 };
        }
        let mut status = 0;
        for (k, &pid) in pids.iter().enumerate() {
            let s = match process::wait_pid(pid) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("sh: wait: {e}");
                    WaitStatus::Exited(1)
                }
            };
            if let WaitStatus::Signaled(sig) = s
                && sig != sys::SIGINT
                && sig != sys::SIGPIPE
            {
                let name = sys::SIGNAL_NAMES
                    .get(sig as usize - 1)
                    .copied()
                    .unwrap_or("?");
                eprintln!("sh: process {pid} killed by SIG{name}");
            }
            if k + 1 == pids.len() {
                status = s.code();
            }
        }
        if failed.is_some() { 1 } else { status }
    }

    /// `kill %N`: the job's processes for each `%N`.
    fn job_pids(&self, argv: Vec<String>) -> Vec<String> {
        let mut out = Vec::new();
        for a in argv {
            let job = a
                .strip_prefix('%')
                .and_then(|n| n.parse::<usize>().ok())
                .and_then(|n| self.jobs.iter().find(|j| j.id == n));
            match job {
                Some(job) => out.extend(job.pids.iter().map(|p| p.to_string())),
                None => out.push(a),
            }
        }
        out
    }

    /// Reaps finished background processes and reports finished jobs.
    fn reap_jobs(&mut self) {
        while let Ok((pid, status)) = sys::wait4(-1, sys::WNOHANG) {
            if pid <= 0 {
                break;
            }
            let _ = status;
            for job in &mut self.jobs {
                if job.last_pid == pid {
                    job.last = Some(WaitStatus::from_raw(status));
                }
                job.pids.retain(|&p| p != pid);
            }
        }
        let interactive = self.interactive;
        self.jobs.retain(|job| {
            if job.pids.is_empty() && interactive {
                // As bash reports them.
                let how = match job.last {
                    Some(WaitStatus::Exited(0)) | None | Some(WaitStatus::Other(_)) => {
                        String::from("Done")
                    }
                    Some(WaitStatus::Exited(c)) => format!("Exit {c}"),
                    Some(WaitStatus::Signaled(sys::SIGTERM)) => String::from("Terminated"),
                    Some(WaitStatus::Signaled(sys::SIGKILL)) => String::from("Killed"),
                    Some(WaitStatus::Signaled(sig)) => format!("Signal {sig}"),
                };
                eprintln!("[{}]+ {how:<24}{}", job.id, job.text);
            }
            !job.pids.is_empty()
        });
    }

    /// Runs one line; updates `$?`.
    fn run_line(&mut self, line: &str) {
        let list = match tokenize(line).and_then(parse) {
            Ok(l) => l,
            Err(msg) => {
                eprintln!("sh: {msg}");
                self.status = 2;
                return;
            }
        };
        for (join, pipeline) in list {
            let run = match join {
                Join::Always => true,
                Join::IfSuccess => self.status == 0,
                Join::IfFailure => self.status != 0,
            };
            if run {
                self.status = self.run_pipeline(&pipeline);
            }
        }
    }

    fn prompt(&self) {
        let cwd = ulib::fs::cwd().unwrap_or_else(|_| String::from("?"));
        eprint!("{cwd} # ");
    }

    /// Reads and runs lines from `fd` until its end; the last status.
    fn run_input(&mut self, fd: sys::Fd) -> i32 {
        let mut reader = LineReader::new(fd);
        loop {
            self.reap_jobs();
            if self.interactive {
                self.prompt();
            }
            match reader.next_line() {
                Ok(Some(line)) => self.run_line(&String::from_utf8_lossy(&line)),
                Ok(None) => {
                    if self.interactive {
                        eprintln!();
                    }
                    return self.status;
                }
                Err(e) => {
                    eprintln!("sh: read: {e}");
                    return 1;
                }
            }
        }
    }
}

fn main() -> i32 {
    let args = env::args();
    let mut shell = Shell {
        status: 0,
        interactive: false,
        jobs: Vec::new(),
    };
    if env::var("PATH").is_none() {
        env::set_var("PATH", "/bin:/sbin");
    }
    match args.get(1).copied() {
        Some("-c") => {
            let Some(line) = args.get(2) else {
                eprintln!("sh: -c: option requires an argument");
                return 2;
            };
            shell.run_line(line);
            shell.status
        }
        Some("-i") | None => {
            shell.interactive = args.len() > 1 || sys::isatty(STDIN);
            if shell.interactive {
                let _ = sys::signal_disposition(sys::SIGINT, sys::SIG_IGN);
                let _ = sys::signal_disposition(sys::SIGQUIT, sys::SIG_IGN);
            }
            shell.run_input(STDIN)
        }
        Some(script) => {
            let fd = match sys::open(script, sys::O_RDONLY | sys::O_CLOEXEC, 0) {
                Ok(fd) => fd,
                Err(e) => {
                    eprintln!("sh: {script}: {e}");
                    return 127;
                }
            };
            shell.run_input(fd)
        }
    }
}
