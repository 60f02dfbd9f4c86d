//! Updates keep what they leave out, on every update route, as ImageKit's SDKs send them: an edit
//! of an endpoint's description never opens a signed-only endpoint, an edit of an origin's name
//! keeps its prefix, timeout and retries, and so on for named transformations and files. Each
//! scenario changes one field, then checks every other field (as the server wrote it) and the
//! delivery behaviour it governs. Also the seed's rule on the API surface: the first origin an
//! account adds joins its default endpoint.

#[path = "common/sdk_scenario.rs"]
mod sdk_scenario;

use pixelway_testkit::Sdk;

const BIN: &str = env!("CARGO_BIN_EXE_pixelway");

/// One account, `acme`, with no origin of its own yet.
const CONFIG: &str = r#"
[limits]
allowed_origin_networks = ["127.0.0.1/32"]

[[account]]
id = "acme"
private_key = "private_acme"
public_key = "public_acme"
"#;

const PYTHON: &str = r#"
A = "acme"
def refused(call, status, says):
    try:
        call()
    except imagekitio.APIStatusError as e:
        assert e.status_code == status, (e.status_code, e.body)
        assert says in e.body["message"], e.body
        return
    raise AssertionError("not refused: " + says)

# The seed's rule through the API: the first origin joins the default endpoint, the next does not.
assert get(f"/{A}/only-first.jpg")[0] == 404
first = ik.accounts.origins.create(type="WEB_FOLDER", name="first", base_url=os.environ["WEB1"],
                                   extra_body={"timeout": "2s", "retries": 1})
assert get(f"/{A}/only-first.jpg")[0] == 200
second = ik.accounts.origins.create(type="WEB_FOLDER", name="second", base_url=os.environ["WEB2"])
assert api("/v1/accounts/url-endpoints/default")["origins"] == [first.id]

# An endpoint edit, the way a team writes it, keeps signedUrlsOnly and the default image.
guarded = ik.accounts.url_endpoints.create(description="guarded", url_prefix="guarded",
    origins=[second.id, first.id], extra_body={"signedUrlsOnly": True, "defaultImage": "lib.jpg"})
path = f"/v1/accounts/url-endpoints/{guarded.id}"
before = api(path)
assert before["signedUrlsOnly"] is True and before["defaultImage"] == "lib.jpg", before
assert get(f"/{A}/guarded/only-first.jpg")[0] == 401
cur = ik.accounts.url_endpoints.get(guarded.id)
ik.accounts.url_endpoints.update(guarded.id, description="edited", url_prefix=cur.url_prefix,
                                 origins=cur.origins)
assert api(path) == {**before, "description": "edited"}, api(path)
assert get(f"/{A}/guarded/only-first.jpg")[0] == 401
# The description alone: urlPrefix and origins left out are kept (no 409 for the empty prefix).
ik.accounts.url_endpoints.update(guarded.id, description="only this")
assert api(path) == {**before, "description": "only this"}, api(path)
assert get(f"/{A}/guarded/only-first.jpg")[0] == 401
# Opening it is explicit; null is not a way to say false.
refused(lambda: ik.accounts.url_endpoints.update(guarded.id, description="x",
        extra_body={"signedUrlsOnly": None}), 400, "signedUrlsOnly")
ik.accounts.url_endpoints.update(guarded.id, description="open", extra_body={"signedUrlsOnly": False})
assert api(path) == {**before, "description": "open", "signedUrlsOnly": False}, api(path)
assert get(f"/{A}/guarded/only-first.jpg")[0] == 200
status, body, _ = get(f"/{A}/guarded/missing.jpg")
assert status == 200 and body == open(os.environ["CUPS"], "rb").read(), status

# An origin edit keeps the fields it leaves out: prefix, region, timeout, retries, the secret.
bucket = ik.accounts.origins.create(type="S3_COMPATIBLE", name="bucket", bucket=os.environ["BUCKET"],
    prefix="sub", endpoint=os.environ["MOTO"], access_key="moto-key", secret_key="moto-secret",
    extra_body={"region": "eu-west-1", "timeout": "3s", "retries": 2})
stored = ik.accounts.url_endpoints.create(description="b", url_prefix="b", origins=[bucket.id])
assert get(f"/{A}/b/in-bucket.jpg")[0] == 200
opath = f"/v1/accounts/origins/{bucket.id}"
o_before = api(opath)
assert (o_before["prefix"], o_before["region"], o_before["timeout"], o_before["retries"]) == \
    ("sub", "eu-west-1", "3s", 2), o_before
ik.accounts.origins.update(bucket.id, type="S3_COMPATIBLE", name="renamed", bucket=os.environ["BUCKET"],
    endpoint=os.environ["MOTO"], access_key="moto-key", secret_key="")
assert api(opath) == {**o_before, "name": "renamed"}, api(opath)
assert get(f"/{A}/b/in-bucket.jpg")[0] == 200
w_before = api(f"/v1/accounts/origins/{first.id}")
ik.accounts.origins.update(first.id, type="WEB_FOLDER", name="first", base_url=os.environ["WEB1"],
                           extra_body={"retries": 0})
assert api(f"/v1/accounts/origins/{first.id}") == {**w_before, "retries": 0}
refused(lambda: ik.accounts.origins.update(first.id, type="WEB_FOLDER", name="first",
        base_url=os.environ["WEB1"], extra_body={"timeout": "forever"}), 400, "timeout")
refused(lambda: ik.accounts.origins.update(first.id, type="WEB_FOLDER", name="first",
        base_url=os.environ["WEB1"], extra_body={"retries": 50}), 400, "retries")
# An address the outbound policy refuses is refused when saved, naming the field (127.0.0.2 is
# outside this server's allowed_origin_networks; nothing is sent to it).
refused(lambda: ik.accounts.origins.create(type="WEB_FOLDER", name="blocked",
        base_url="http://127.0.0.2:9/images"), 400, "baseUrl: http://127.0.0.2:9/images cannot be reached")
assert "blocked" not in [o.name for o in ik.accounts.origins.list()]

# Named transformations: one field changes.
thumb = ik.named_transformations.create(name="thumb", transformation="w-40")
n_before = api(f"/v1/named-transformations/{thumb.id}")
ik.named_transformations.update(thumb.id, name="small")
assert api(f"/v1/named-transformations/{thumb.id}") == {**n_before, "name": "small"}
assert jpeg_size(get(f"/{A}/tr:n-small/lib.jpg")[1])[0] == 40

# Files: one field changes, the rest stays (and a private file stays private).
cups = open(os.environ["CUPS"], "rb").read()
up = ik.files.upload(file=cups, file_name="kept.jpg", use_unique_file_name=False, tags=["a"],
    custom_coordinates="1,2,3,4", custom_metadata={"sku": "k1"}, is_private_file=True)
f_before = api(f"/v1/files/{up.file_id}/details")
ik.files.update(up.file_id, tags=["b"])
f_after = api(f"/v1/files/{up.file_id}/details")
f_after.pop("updatedAt"); f_before.pop("updatedAt")
assert f_after == {**f_before, "tags": ["b"]}, (f_before, f_after)
assert get(f"/{A}/kept.jpg")[0] == 401
print("python scenario passed")
"#;

const NODE: &str = r#"
const A = 'acme';
const first = await ik.accounts.origins.create({ type: 'WEB_FOLDER', name: 'first',
  baseUrl: process.env.WEB1, timeout: '2s' });
assert.strictEqual((await get(`/${A}/only-first.jpg`)).status, 200);

const guarded = await ik.accounts.urlEndpoints.create({ description: 'guarded', urlPrefix: 'guarded',
  origins: [first.id], signedUrlsOnly: true, defaultImage: 'lib.jpg' });
const path = `/v1/accounts/url-endpoints/${guarded.id}`;
const before = await api(path);
assert.strictEqual(before.signedUrlsOnly, true);
const cur = await ik.accounts.urlEndpoints.get(guarded.id);
await ik.accounts.urlEndpoints.update(guarded.id, { description: 'edited', urlPrefix: cur.urlPrefix,
  origins: cur.origins });
assert.deepStrictEqual(await api(path), { ...before, description: 'edited' });
assert.strictEqual((await get(`/${A}/guarded/only-first.jpg`)).status, 401);
await ik.accounts.urlEndpoints.update(guarded.id, { description: 'only this' });
assert.deepStrictEqual(await api(path), { ...before, description: 'only this' });
assert.strictEqual((await get(`/${A}/guarded/only-first.jpg`)).status, 401);
await ik.accounts.urlEndpoints.update(guarded.id, { description: 'open', signedUrlsOnly: false });
assert.strictEqual((await get(`/${A}/guarded/only-first.jpg`)).status, 200);

const o = `/v1/accounts/origins/${first.id}`;
const oBefore = await api(o);
assert.strictEqual(oBefore.timeout, '2s');
await ik.accounts.origins.update(first.id, { type: 'WEB_FOLDER', name: 'renamed', baseUrl: process.env.WEB1 });
assert.deepStrictEqual(await api(o), { ...oBefore, name: 'renamed' });

const named = await ik.namedTransformations.create({ name: 'small', transformation: 'w-20' });
const nBefore = await api(`/v1/named-transformations/${named.id}`);
await ik.namedTransformations.update(named.id, { transformation: 'w-30' });
assert.deepStrictEqual(await api(`/v1/named-transformations/${named.id}`), { ...nBefore, transformation: 'w-30' });

const up = await ik.files.upload({ file: await toFile(fs.readFileSync(process.env.CUPS), 'n.jpg'),
  fileName: 'n.jpg', useUniqueFileName: false, tags: ['a'], customCoordinates: '1,2,3,4' });
const fBefore = await api(`/v1/files/${up.fileId}/details`);
await ik.files.update(up.fileId, { customCoordinates: '5,6,7,8' });
const fAfter = await api(`/v1/files/${up.fileId}/details`);
delete fBefore.updatedAt; delete fAfter.updatedAt;
assert.deepStrictEqual(fAfter, { ...fBefore, customCoordinates: '5,6,7,8' });
console.log('node scenario passed');
"#;

async fn run(sdk: Sdk, scenario: &'static str) {
    let servers = sdk_scenario::start(BIN, CONFIG, sdk, "updates", "sub/in-bucket.jpg").await;
    let cups = std::fs::read(pixelway_testkit::sample_path("cups.jpg")).unwrap();
    servers.webs[0].serve("/only-first.jpg", &cups);
    servers.run(sdk, scenario).await;
}

#[tokio::test]
async fn python_sdk_updates_keep_what_they_leave_out() {
    run(Sdk::Python, PYTHON).await;
}

#[tokio::test]
async fn node_sdk_updates_keep_what_they_leave_out() {
    run(Sdk::Node, NODE).await;
}
