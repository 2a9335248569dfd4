//! The estimate: the core's plan ([`crate::eval::plan`], the one `leakscope eval` prints) of the
//! run the form describes, from the stored results and the images' sizes.

use crate::eval::image::ImageData;
use crate::eval::plan::{EvalSetup, Plan, Work};
use crate::eval::{HttpProvider, Provider, ResultStore, Row};
use crate::web::fetch::Fetch;
use crate::web::files::PickedDataset;
use crate::web::idb::Database;

use super::form::{judge_template, settings};
use super::store::IdbResultStore;
use super::view::{self, message};

/// Bytes read from each image for the estimate: enough for any header's size fields.
const HEAD_BYTES: u64 = 64 * 1024;

/// The stored records: IndexedDB's, or none when the browser gives no storage.
async fn stored_records(db: Option<Database>) -> Result<Vec<crate::eval::Record>, String> {
    match db {
        Some(db) => IdbResultStore::new(db)
            .load()
            .await
            .map_err(|e| e.to_string()),
        None => Ok(Vec::new()),
    }
}

/// The image size of every row with work (`None`: no work, or unreadable), from the first
/// bytes of each image.
async fn image_sizes(
    dataset: &PickedDataset,
    rows: &[Row],
    work: &[Work],
) -> Vec<Option<(u32, u32)>> {
    let mut sizes = Vec::with_capacity(rows.len());
    for (row, w) in rows.iter().zip(work) {
        let size = match w {
            Work::Nothing => None,
            _ => match dataset.image_head(&row.image_path, HEAD_BYTES).await {
                Ok(head) => ImageData::dimensions(&head).ok(),
                Err(_) => None,
            },
        };
        sizes.push(size);
    }
    sizes
}

/// The core's plan of the run the form describes, as `leakscope eval` would make it: stored
/// results, the mode and the chosen template count.
pub async fn show(
    dataset: &PickedDataset,
    all_rows: &[Row],
    db: Option<Database>,
) -> Result<(), String> {
    let settings = settings()?;
    let rows = settings.select(all_rows);
    let template = judge_template(&settings).await?;
    // Providers without keys: the plan only asks them their model and format.
    let target = HttpProvider::new(settings.target.config("", true), Fetch::api());
    let judge = settings
        .judge
        .as_ref()
        .map(|j| HttpProvider::new(j.config("", true), Fetch::api()));
    let setup = EvalSetup::new(
        &settings,
        &target,
        judge.as_ref().map(|p| p as &dyn Provider),
        template,
    );
    message("Reading stored results and image sizes…");
    let records = stored_records(db).await?;
    let work = setup.work(&rows, &records);
    let sizes = image_sizes(dataset, &rows, &work).await;
    let plan = Plan::new(&setup, &rows, work, &sizes);
    let mut missing = Vec::new();
    if plan.full > 0 && !settings.target.priced() {
        missing.push("the model under test");
    }
    if settings.judge.as_ref().is_some_and(|j| !j.priced()) {
        missing.push("the judge");
    }
    message("");
    view::show_estimate(&plan, rows.len(), &missing, &settings.departures());
    Ok(())
}
