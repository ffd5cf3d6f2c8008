import subprocess
import sys


def test_importing_the_package_does_not_load_sklearn_or_jieba():
    code = "import sys, understand; print('sklearn' in sys.modules, 'jieba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


def test_public_api_resolves():
    import understand

    for name in understand.__all__:
        assert callable(getattr(understand, name))


def test_module_level_classify_batch_loads_the_model_once(tiny_model, monkeypatch):
    import understand
    import understand.artifact

    calls = []

    def fake_load(path=None):
        calls.append(path)
        return tiny_model

    monkeypatch.setattr(understand.artifact, "load_classifier", fake_load)
    monkeypatch.setattr(understand, "_default_classifier", None)
    first = understand.classify_batch([("小区停水", "已经停水三天")], threshold=0.0)
    understand.classify_batch([("噪音", "楼下很吵")], threshold=0.0)
    assert len(first) == 1 and first[0].category in tiny_model.classes
    assert calls == [None]
