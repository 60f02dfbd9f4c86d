//! The management API driven by ImageKit's official SDKs, unchanged, as a user's application
//! drives it: the Python SDK (`imagekitio`) and the Node SDK (`@imagekit/nodejs`) pointed at a
//! running pixelway by their base URL. After each change a delivery URL must show it.

#[path = "common/sdk_scenario.rs"]
mod sdk_scenario;

use pixelway_testkit::{Pixelway, WebOrigin, sample_path};
use pixelway_testkit::{Sdk, run_management};

const BIN: &str = env!("CARGO_BIN_EXE_pixelway");

/// One account, `acme`; URL uploads may fetch from loopback (the test's web server) only.
fn config() -> String {
    r#"
[limits]
allowed_origin_networks = ["127.0.0.1/32"]
max_upload_bytes = "2MiB"

[[account]]
id = "acme"
private_key = "private_acme"
public_key = "public_acme"
"#
    .to_string()
}

const PYTHON_SCENARIO: &str = r#"
A = "acme"
cups = open(os.environ["CUPS"], "rb").read()
hills = open(os.environ["HILLS"], "rb").read()
flower = open(os.environ["FLOWER"], "rb").read()

# Upload as bytes: served as they were sent, and transformed.
up = ik.files.upload(file=cups, file_name="cup.jpg", folder="/py", use_unique_file_name=False,
                     tags=["kitchen", "sale"], custom_metadata={"sku": "c1"})
assert up.file_path == "/py/cup.jpg", up.file_path
assert (up.width, up.height) == jpeg_size(cups), (up.width, up.height)
status, body, _ = get(f"/{A}/py/cup.jpg")
assert status == 200 and body == cups, status
status, body, headers = get(f"/{A}/tr:w-50/py/cup.jpg")
assert status == 200 and jpeg_size(body)[0] == 50, (status, headers)

# A unique name by default.
unique = ik.files.upload(file=cups, file_name="cup.jpg", folder="/py/unique")
assert unique.name != "cup.jpg" and unique.name.startswith("cup_") and unique.name.endswith(".jpg")
assert get(f"/{A}/py/unique/{unique.name}")[1] == cups

# As base64, and as a URL (fetched through the outbound guard). The Python SDK takes only file
# content for `file`; a (None, text) tuple sends the text as a plain form field, as ImageKit's
# docs describe URL and base64 uploads.
b64 = ik.files.upload(file=(None, base64.b64encode(hills)), file_name="hills.jpg", folder="/py",
                      use_unique_file_name=False)
assert get(f"/{A}/py/hills.jpg")[1] == hills
remote = ik.files.upload(file=(None, os.environ["REMOTE"].encode()), file_name="remote.jpg", folder="/py/sub",
                         use_unique_file_name=False)
assert get(f"/{A}/py/sub/remote.jpg")[1] == flower

# List and search.
listed = sorted(f.name for f in ik.assets.list(path="/py"))
assert listed == ["cup.jpg", "hills.jpg"], listed
found = [f.name for f in ik.assets.list(search_query='tags IN ["sale"] AND size > "1kb"')]
assert found == ["cup.jpg"], found
found = [f.name for f in ik.assets.list(search_query='name : "hil" OR name = "remote.jpg"', sort="ASC_NAME")]
assert found == ["hills.jpg", "remote.jpg"], found
found = [f.name for f in ik.assets.list(search_query='createdAt > "1h" AND format = "jpg"', path="/py/sub")]
assert found == ["remote.jpg"], found
folders = [f.name for f in ik.assets.list(path="/py", type="folder")]
assert sorted(folders) == ["sub", "unique"], folders

# Details and update.
details = ik.files.get(up.file_id)
assert details.tags == ["kitchen", "sale"] and details.custom_metadata == {"sku": "c1"}
updated = ik.files.update(up.file_id, tags=["kitchen"], custom_metadata={"sku": "c2"}, description="a cup")
assert updated.tags == ["kitchen"] and updated.description == "a cup"
assert ik.files.get(up.file_id).custom_metadata == {"sku": "c2"}

# Tags in bulk.
ik.files.bulk.add_tags(file_ids=[up.file_id, b64.file_id], tags=["bulk"])
assert sorted(f.name for f in ik.assets.list(search_query='tags IN ["bulk"]')) == ["cup.jpg", "hills.jpg"]
ik.files.bulk.remove_tags(file_ids=[b64.file_id], tags=["bulk"])
assert [f.name for f in ik.assets.list(search_query='tags IN ["bulk"]')] == ["cup.jpg"]

# Replacing a file serves the new bytes at once, transformed too.
before = get(f"/{A}/tr:w-50/py/cup.jpg")[1]
replaced = ik.files.upload(file=hills, file_name="cup.jpg", folder="/py", use_unique_file_name=False)
assert replaced.file_id == up.file_id
assert get(f"/{A}/py/cup.jpg")[1] == hills
after = get(f"/{A}/tr:w-50/py/cup.jpg")[1]
assert after != before and jpeg_size(after)[0] == 50

# Copy, move, rename.
ik.files.copy(source_file_path="/py/cup.jpg", destination_path="/copies")
assert get(f"/{A}/copies/cup.jpg")[1] == hills
ik.files.move(source_file_path="/copies/cup.jpg", destination_path="/moved")
assert get(f"/{A}/moved/cup.jpg")[1] == hills and get(f"/{A}/copies/cup.jpg")[0] == 404
ik.files.rename(file_path="/moved/cup.jpg", new_file_name="mug.jpg")
assert get(f"/{A}/moved/mug.jpg")[1] == hills and get(f"/{A}/moved/cup.jpg")[0] == 404

# Purge and its status.
purge = ik.cache.invalidation.create(url=f"{BASE}/{A}/tr:w-50/py/cup.jpg")
assert ik.cache.invalidation.get(purge.request_id).status == "Completed"
assert get(f"/{A}/tr:w-50/py/cup.jpg")[0] == 200

# Folders.
ik.folders.create(folder_name="empty", parent_folder_path="/py")
assert "empty" in [f.name for f in ik.assets.list(path="/py", type="folder")]
ik.folders.delete(folder_path="/py/sub")
assert get(f"/{A}/py/sub/remote.jpg")[0] == 404
assert "sub" not in [f.name for f in ik.assets.list(path="/py", type="folder")]

# Delete and bulk delete: the delivery URL is 404 at once.
ik.files.delete(b64.file_id)
assert get(f"/{A}/py/hills.jpg")[0] == 404
deleted = ik.files.bulk.delete(file_ids=[up.file_id, unique.file_id])
assert sorted(deleted.successfully_deleted_file_ids) == sorted([up.file_id, unique.file_id])
assert get(f"/{A}/py/cup.jpg")[0] == 404
try:
    ik.files.get(up.file_id)
    raise AssertionError("a deleted file has details")
except imagekitio.NotFoundError:
    pass
print("python scenario passed")
"#;

const NODE_SCENARIO: &str = r#"
const A = 'acme';
const cups = fs.readFileSync(process.env.CUPS);
const hills = fs.readFileSync(process.env.HILLS);

const up = await ik.files.upload({ file: await toFile(cups, 'cup.jpg'), fileName: 'cup.jpg',
  folder: '/node', useUniqueFileName: false, tags: ['kitchen'], isPrivateFile: false });
assert.strictEqual(up.filePath, '/node/cup.jpg');
assert.ok((await get(`/${A}/node/cup.jpg`)).body.equals(cups));
assert.strictEqual((await get(`/${A}/tr:w-60/node/cup.jpg`)).status, 200);

const b64 = await ik.files.upload({ file: hills.toString('base64'), fileName: 'hills.jpg',
  folder: '/node', useUniqueFileName: false });
assert.ok((await get(`/${A}/node/hills.jpg`)).body.equals(hills));
const remote = await ik.files.upload({ file: process.env.REMOTE, fileName: 'remote.jpg',
  folder: '/node', useUniqueFileName: false });
assert.strictEqual((await get(`/${A}/node/remote.jpg`)).status, 200);

const listed = (await ik.assets.list({ path: '/node', sort: 'ASC_NAME' })).map((f) => f.name);
assert.deepStrictEqual(listed, ['cup.jpg', 'hills.jpg', 'remote.jpg']);
const found = (await ik.assets.list({ searchQuery: 'tags IN ["kitchen"]' })).map((f) => f.name);
assert.deepStrictEqual(found, ['cup.jpg']);

assert.deepStrictEqual((await ik.files.get(up.fileId)).tags, ['kitchen']);
const updated = await ik.files.update(up.fileId, { tags: ['k2'], customMetadata: { a: 1 } });
assert.deepStrictEqual(updated.tags, ['k2']);
await ik.files.bulk.addTags({ fileIds: [up.fileId, b64.fileId], tags: ['both'] });
await ik.files.bulk.removeTags({ fileIds: [up.fileId], tags: ['both'] });
assert.deepStrictEqual((await ik.files.get(b64.fileId)).tags, ['both']);

await ik.files.upload({ file: await toFile(hills, 'cup.jpg'), fileName: 'cup.jpg', folder: '/node',
  useUniqueFileName: false });
assert.ok((await get(`/${A}/node/cup.jpg`)).body.equals(hills));

await ik.files.copy({ sourceFilePath: '/node/cup.jpg', destinationPath: '/node-copies' });
assert.ok((await get(`/${A}/node-copies/cup.jpg`)).body.equals(hills));
await ik.files.move({ sourceFilePath: '/node-copies/cup.jpg', destinationPath: '/node-moved' });
assert.strictEqual((await get(`/${A}/node-copies/cup.jpg`)).status, 404);
await ik.files.rename({ filePath: '/node-moved/cup.jpg', newFileName: 'mug.jpg' });
assert.ok((await get(`/${A}/node-moved/mug.jpg`)).body.equals(hills));

const purge = await ik.cache.invalidation.create({ url: `${BASE}/${A}/node/cup.jpg?tr=w-60` });
assert.strictEqual((await ik.cache.invalidation.get(purge.requestId)).status, 'Completed');

await ik.folders.create({ folderName: 'made', parentFolderPath: '/node' });
const folders = (await ik.assets.list({ path: '/node', type: 'folder' })).map((f) => f.name);
assert.deepStrictEqual(folders, ['made']);
await ik.folders.delete({ folderPath: '/node-moved' });
assert.strictEqual((await get(`/${A}/node-moved/mug.jpg`)).status, 404);

await ik.files.delete(remote.fileId);
assert.strictEqual((await get(`/${A}/node/remote.jpg`)).status, 404);
const bulk = await ik.files.bulk.delete({ fileIds: [up.fileId, b64.fileId] });
assert.deepStrictEqual(bulk.successfullyDeletedFileIds.sort(), [up.fileId, b64.fileId].sort());
assert.strictEqual((await get(`/${A}/node/hills.jpg`)).status, 404);
await assert.rejects(ik.files.get(up.fileId), (e) => e.status === 404);

// Client-side upload: the SDK's authentication parameters, as a browser would send them (no
// Authorization header); each token works once.
const auth = ik.helper.getAuthenticationParameters();
const form = () => {
  const f = new FormData();
  f.append('file', new Blob([cups]), 'browser.jpg');
  f.append('fileName', 'browser.jpg');
  f.append('useUniqueFileName', 'false');
  f.append('publicKey', 'public_acme');
  for (const [k, v] of Object.entries(auth)) f.append(k, String(v));
  return f;
};
const first = await fetch(`${BASE}/api/v1/files/upload`, { method: 'POST', body: form() });
assert.strictEqual(first.status, 200, await first.text());
assert.ok((await get(`/${A}/browser.jpg`)).body.equals(cups));
const again = await fetch(`${BASE}/api/v1/files/upload`, { method: 'POST', body: form() });
assert.strictEqual(again.status, 401);
assert.match((await again.json()).message, /used before/);
console.log('node scenario passed');
"#;

fn remote_origin() -> WebOrigin {
    let web = WebOrigin::start();
    let flower = std::fs::read(sample_path("fresh-flower.jpg")).unwrap();
    web.serve("/remote/flower.jpg", &flower);
    web
}

fn sample_env(web: &WebOrigin) -> Vec<(String, String)> {
    vec![
        ("CUPS".into(), sample_path("cups.jpg")),
        ("HILLS".into(), sample_path("pastel-hills.jpg")),
        ("FLOWER".into(), sample_path("fresh-flower.jpg")),
        (
            "REMOTE".into(),
            format!("{}/remote/flower.jpg", web.base_url),
        ),
    ]
}

fn run(sdk: Sdk, scenario: &str) {
    let web = remote_origin();
    let server = Pixelway::start(BIN, Some(&config()));
    let env = sample_env(&web);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let out = run_management(sdk, &server.base_url, "private_acme", scenario, &env);
    assert!(out.contains("scenario passed"), "{out}");
}

const PYTHON_ENDPOINTS: &str = r#"
import httpx
A = "acme"
def names_in(path):
    status, body, headers = get(path)
    return status, headers.get("x-pixelway-origin")

first = ik.accounts.origins.create(type="WEB_FOLDER", name="first", base_url=os.environ["WEB1"])
second = ik.accounts.origins.create(type="WEB_FOLDER", name="second", base_url=os.environ["WEB2"])
bucket = ik.accounts.origins.create(type="S3_COMPATIBLE", name="bucket", bucket=os.environ["BUCKET"],
                                    endpoint=os.environ["MOTO"], access_key="moto-key",
                                    secret_key="SECRET-NEVER-SHOWN", s3_force_path_style=True)
listed = httpx.get(BASE + "/v1/accounts/origins", auth=("private_acme", "")).text
assert "SECRET-NEVER-SHOWN" not in listed and "secretKey" not in listed, listed
assert sorted(o.name for o in ik.accounts.origins.list()) == ["bucket", "first", "second"]

# A new endpoint routes through its origins in order, at once.
shop = ik.accounts.url_endpoints.create(description="the shop", url_prefix="shop",
                                        origins=[second.id, first.id])
assert shop.url_prefix == "shop" and shop.origins == [second.id, first.id]
assert names_in(f"/{A}/shop/both.jpg") == (200, "second")
assert names_in(f"/{A}/shop/only-first.jpg") == (200, "first")
assert names_in(f"/{A}/shop/in-bucket.jpg")[0] == 404
shop = ik.accounts.url_endpoints.update(shop.id, description="the shop", url_prefix="shop",
                                        origins=[first.id, bucket.id])
assert names_in(f"/{A}/shop/both.jpg") == (200, "first")
assert names_in(f"/{A}/shop/in-bucket.jpg") == (200, "bucket")
assert get(f"/{A}/shop/in-bucket.jpg")[1] == open(os.environ["CUPS"], "rb").read()
endpoints = {e.url_prefix: e for e in ik.accounts.url_endpoints.list()}
assert endpoints[""].id == "default" and endpoints["shop"].description == "the shop"
assert ik.accounts.url_endpoints.get("default").url_prefix == ""

# Secrets are write-only: an update that leaves them out keeps them.
ik.accounts.origins.update(bucket.id, type="S3_COMPATIBLE", name="bucket", bucket=os.environ["BUCKET"],
                           endpoint=os.environ["MOTO"], access_key="moto-key", secret_key="")
assert names_in(f"/{A}/shop/in-bucket.jpg") == (200, "bucket")

# Refusals name the field.
def refused(call, status, says):
    try:
        call()
    except imagekitio.APIStatusError as e:
        assert e.status_code == status, (e.status_code, e.body)
        assert says in e.body["message"], e.body
        return
    raise AssertionError("not refused: " + says)
refused(lambda: ik.accounts.url_endpoints.create(description="x", url_prefix="shop"), 409, "urlPrefix")
refused(lambda: ik.accounts.url_endpoints.create(description="x", url_prefix="bad_prefix"), 400, "endpoint identifier")
refused(lambda: ik.accounts.url_endpoints.create(description="x", url_prefix="y", origins=["nope"]), 400, "origins")
refused(lambda: ik.accounts.url_endpoints.delete("default"), 400, "default endpoint")
refused(lambda: ik.accounts.origins.delete(first.id), 409, "endpoint \"shop\"")
refused(lambda: ik.accounts.origins.create(type="WEB_FOLDER", name="first", base_url=os.environ["WEB1"]), 409, "name")
refused(lambda: ik.accounts.origins.create(type="AKENEO_PIM", name="pim", base_url="http://127.0.0.1:1",
        client_id="c", client_secret="s", username="u", password="p"), 400, "AKENEO_PIM")

# Named transformations apply at once.
thumb = ik.named_transformations.create(name="thumb", transformation="w-40")
assert jpeg_size(get(f"/{A}/tr:n-thumb/lib.jpg")[1])[0] == 40
ik.named_transformations.update(thumb.id, transformation="w-30")
assert jpeg_size(get(f"/{A}/tr:n-thumb/lib.jpg")[1])[0] == 30
assert [n.name for n in ik.named_transformations.list()] == ["thumb"]
refused(lambda: ik.named_transformations.create(name="bad", transformation="w-abc"), 400, "w-abc")
ik.named_transformations.delete(thumb.id)
assert get(f"/{A}/tr:n-thumb/lib.jpg")[0] == 400

# Deleting the endpoint: its prefix is an ordinary folder again.
ik.accounts.url_endpoints.delete(shop.id)
assert get(f"/{A}/shop/both.jpg")[0] == 404
# The first origin joined the default endpoint (the seed's rule): it is used there until removed.
assert ik.accounts.url_endpoints.get("default").origins == [first.id]
refused(lambda: ik.accounts.origins.delete(first.id), 409, "default endpoint")
ik.accounts.url_endpoints.update("default", description="", origins=[])
ik.accounts.origins.delete(first.id)
assert "first" not in [o.name for o in ik.accounts.origins.list()]
print("python scenario passed")
"#;

const NODE_ENDPOINTS: &str = r#"
const A = 'acme';
const originOf = async (path) => (await get(path)).headers.get('x-pixelway-origin');
const first = await ik.accounts.origins.create({ type: 'WEB_FOLDER', name: 'first', baseUrl: process.env.WEB1 });
const second = await ik.accounts.origins.create({ type: 'WEB_FOLDER', name: 'second', baseUrl: process.env.WEB2 });
const bucket = await ik.accounts.origins.create({ type: 'S3_COMPATIBLE', name: 'bucket', bucket: process.env.BUCKET,
  endpoint: process.env.MOTO, accessKey: 'moto-key', secretKey: 'NODE-SECRET', s3ForcePathStyle: true });
assert.ok(!JSON.stringify(await ik.accounts.origins.list()).includes('NODE-SECRET'));
assert.strictEqual((await ik.accounts.origins.get(bucket.id)).name, 'bucket');

const shop = await ik.accounts.urlEndpoints.create({ description: 'node shop', urlPrefix: 'nshop',
  origins: [second.id, first.id] });
assert.strictEqual(await originOf(`/${A}/nshop/both.jpg`), 'second');
assert.strictEqual(await originOf(`/${A}/nshop/only-first.jpg`), 'first');
await ik.accounts.urlEndpoints.update(shop.id, { description: 'node shop', urlPrefix: 'nshop',
  origins: [bucket.id, first.id] });
assert.strictEqual(await originOf(`/${A}/nshop/both.jpg`), 'first');
assert.strictEqual(await originOf(`/${A}/nshop/in-bucket.jpg`), 'bucket');
assert.strictEqual((await ik.accounts.urlEndpoints.get(shop.id)).description, 'node shop');
assert.ok((await ik.accounts.urlEndpoints.list()).some((e) => e.id === 'default'));
await ik.accounts.origins.update(second.id, { type: 'WEB_FOLDER', name: 'second-renamed', baseUrl: process.env.WEB2 });
assert.ok((await ik.accounts.origins.list()).some((o) => o.name === 'second-renamed'));
await assert.rejects(ik.accounts.origins.delete(first.id), (e) => e.status === 409);

const named = await ik.namedTransformations.create({ name: 'small', transformation: 'w-20' });
assert.strictEqual((await get(`/${A}/tr:n-small/lib.jpg`)).status, 200);
await ik.namedTransformations.update(named.id, { enabled: false });
assert.strictEqual((await get(`/${A}/tr:n-small/lib.jpg`)).status, 400);
assert.deepStrictEqual((await ik.namedTransformations.list()).map((n) => n.name), ['small']);
await ik.namedTransformations.delete(named.id);

await ik.accounts.urlEndpoints.delete(shop.id);
assert.strictEqual((await get(`/${A}/nshop/both.jpg`)).status, 404);
assert.deepStrictEqual((await ik.accounts.urlEndpoints.get('default')).origins, [first.id]);
await ik.accounts.urlEndpoints.update('default', { description: '', origins: [] });
for (const o of [first, second, bucket]) await ik.accounts.origins.delete(o.id);
assert.deepStrictEqual(await ik.accounts.origins.list(), []);
console.log('node scenario passed');
"#;

/// The servers and files both endpoint scenarios use, and the scenario run with `sdk`.
async fn run_endpoints_scenario(sdk: Sdk, scenario: &'static str) {
    let servers = sdk_scenario::start(BIN, &config(), sdk, "api-bucket", "in-bucket.jpg").await;
    let cups = std::fs::read(sample_path("cups.jpg")).unwrap();
    servers.webs[0].serve("/both.jpg", &cups);
    servers.webs[0].serve("/only-first.jpg", &cups);
    servers.webs[1].serve("/both.jpg", &cups);
    servers.run(sdk, scenario).await;
}

#[tokio::test]
async fn the_node_sdk_manages_endpoints_origins_and_named_transformations() {
    run_endpoints_scenario(Sdk::Node, NODE_ENDPOINTS).await;
}

#[tokio::test]
async fn the_python_sdk_manages_endpoints_origins_and_named_transformations() {
    run_endpoints_scenario(Sdk::Python, PYTHON_ENDPOINTS).await;
}

#[test]
fn the_python_sdk_manages_the_media_library() {
    run(Sdk::Python, PYTHON_SCENARIO);
}

#[test]
fn the_node_sdk_manages_the_media_library() {
    run(Sdk::Node, NODE_SCENARIO);
}
