"""A binary inference request from Python's standard library, written from the extension's text."""
import json, struct, sys, urllib.request

api, key = sys.argv[1], sys.argv[2]
windows = [[((i * 37 + w * 11) % 100) / 100 for i in range(1024)] for w in range(4)]  # 4 windows of 1024 samples
data = struct.pack("<%df" % (4 * 1024), *[x for window in windows for x in window])
header = json.dumps({
    "inputs": [{"name": "signal", "datatype": "FP32", "shape": [4, 1, 1024], "parameters": {"binary_data_size": len(data)}}],
    "outputs": [{"name": "logits", "parameters": {"binary_data": True}}],
}).encode()
request = urllib.request.Request(f"{api}/v2/models/sensor_cnn/infer", data=header + data, method="POST", headers={
    "x-api-key": key, "content-type": "application/octet-stream", "accept": "application/octet-stream",
    "inference-header-content-length": str(len(header)),
})
with urllib.request.urlopen(request) as response:
    body, length = response.read(), int(response.headers["inference-header-content-length"])
answer = json.loads(body[:length])
(logits,) = answer["outputs"]
values = struct.unpack("<%df" % (logits["parameters"]["binary_data_size"] // 4), body[length:])
print(answer["model_version"], logits["shape"], [round(v, 4) for v in values[:4]])
