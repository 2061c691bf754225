//! `emu mkimage`: builds a disk image from a recipe (the library is
//! `disk-images`), or checks one.
//!
//! ```text
//! emu mkimage --recipe disk-images/recipes/default.toml --out disk.img \
//!         --input mbr=mbr.bin --input stage2=stage2.bin --input kernel=kernel.elf \
//!         [--cmdline "console=ttyS0"]
//! emu mkimage check disk.img
//! ```

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use disk_images::{build_image, check_image, Recipe};

/// Arguments of `emu mkimage`.
#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct MkimageArgs {
    #[command(subcommand)]
    command: Option<Command>,
    /// The recipe (TOML) to build from.
    #[arg(long, required = false)]
    recipe: Option<PathBuf>,
    /// Where to write the image.
    #[arg(long)]
    out: Option<PathBuf>,
    /// An artifact the recipe refers to as `@name`: name=PATH (repeatable).
    #[arg(long = "input", value_name = "NAME=PATH", value_parser = parse_input)]
    inputs: Vec<(String, PathBuf)>,
    /// Replaces the content of /boot/cmdline.
    #[arg(long)]
    cmdline: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Check an image's MBR and root file system; print a summary.
    Check {
        /// The disk image.
        image: PathBuf,
    },
}

fn parse_input(text: &str) -> Result<(String, PathBuf), String> {
    let (name, path) = text
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=PATH, got {text:?}"))?;
    let name = name.strip_prefix('@').unwrap_or(name);
    if name.is_empty() || path.is_empty() {
        return Err(format!("expected NAME=PATH, got {text:?}"));
    }
    Ok((name.to_string(), PathBuf::from(path)))
}

fn build_or_check(cli: MkimageArgs) -> Result<(), String> {
    if let Some(Command::Check { image }) = cli.command {
        let report = check_image(&image).map_err(|e| e.to_string())?;
        println!("{}: {report}", image.display());
        return Ok(());
    }
    let (Some(recipe_path), Some(out)) = (cli.recipe, cli.out) else {
        return Err("give --recipe FILE --out IMG, or `check IMG` (see --help)".into());
    };
    let mut recipe = Recipe::load(&recipe_path).map_err(|e| e.to_string())?;
    if let Some(cmdline) = &cli.cmdline {
        recipe.set_cmdline(cmdline);
    }
    let inputs: HashMap<String, PathBuf> = cli.inputs.into_iter().collect();
    let report = build_image(&recipe, &inputs, &out).map_err(|e| e.to_string())?;
    let fs = &report.fs;
    println!(
        "{}: {} bytes; root ext2 {} blocks of {} ({} free), {} inodes ({} free); \
         {} dirs, {} files, {} symlinks, {} devices; stage 2 {} bytes",
        out.display(),
        report.disk_bytes,
        fs.blocks,
        fs.block_size,
        fs.free_blocks,
        fs.inodes,
        fs.free_inodes,
        fs.dirs,
        fs.files,
        fs.symlinks,
        fs.devices,
        report.stage2_bytes
    );
    Ok(())
}

/// Runs `emu mkimage`; the exit status is 0, or 2 with a message.
pub fn mkimage(args: MkimageArgs) -> ExitCode {
    match build_or_check(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("emu mkimage: {e}");
            ExitCode::from(2)
        }
    }
}
