"""Direct gRPC: Synthesize (formats, sample rate, speed, pitch, volume) and Transcribe (client stream)."""

from __future__ import annotations

import io
from typing import Any

import grpc
import numpy as np
import pytest
import soundfile

from meshserve.v1 import speech_pb2 as pb
from tests.speech.audio_files import resampled_stereo
from tests.speech.conftest import SENTENCE
from tests.speech.wer import heard_back, words

pytestmark = pytest.mark.slow


def synthesize(stub: Any, **fields: Any) -> tuple[list[Any], bytes]:
    """Every message of a synthesis and the audio they carry."""
    replies = list(stub.Synthesize(pb.SynthesizeRequest(text=SENTENCE, **fields), timeout=60))
    return replies, b"".join(r.audio for r in replies)


def samples_of(wav: bytes) -> tuple[np.ndarray, int]:
    data, rate = soundfile.read(io.BytesIO(wav), dtype="float32")
    return data, rate


def transcribe(stub: Any, audio: bytes, config: pb.TranscribeConfig, chunk: int = 16384) -> Any:
    messages = [pb.TranscribeRequest(config=config)]
    messages += [pb.TranscribeRequest(audio=audio[i : i + chunk]) for i in range(0, len(audio), chunk)]
    return stub.Transcribe(iter(messages), timeout=60)


def test_whole_flac_file_has_exact_headers(speech_stub: Any) -> None:
    replies, flac = synthesize(speech_stub, format=pb.AUDIO_FORMAT_FLAC, whole_file=True)
    assert len(replies) == 1 and replies[0].final and replies[0].media_type == "audio/flac"
    info = soundfile.info(io.BytesIO(flac))
    # STREAMINFO carries the real total, which a streamed FLAC cannot know in advance.
    assert info.format == "FLAC" and info.samplerate == 22050
    assert abs(info.frames / 22050 - replies[0].total_duration_seconds) < 0.01


def test_sample_rate_conversion_keeps_duration(speech_stub: Any) -> None:
    natives = [synthesize(speech_stub, format=pb.AUDIO_FORMAT_WAV, whole_file=True)[1] for _ in range(4)]
    converted = [
        synthesize(speech_stub, format=pb.AUDIO_FORMAT_WAV, sample_rate=16000, whole_file=True)
        for _ in range(4)
    ]
    for replies, wav in converted:
        b, rate_b = samples_of(wav)
        assert (rate_b, replies[0].sample_rate) == (16000, 16000)
        # The converted file is as long as the service says.
        assert abs(len(b) / rate_b - replies[0].total_duration_seconds) < 0.01
    assert {samples_of(wav)[1] for wav in natives} == {22050}
    # Piper draws phoneme durations at random (1.8 % standard deviation for this sentence, 30
    # syntheses): the durations are compared as means of four syntheses each, where a resampling
    # that kept the sample count instead of the time would be off by 38 %.
    native_s = np.mean([len(samples_of(wav)[0]) / 22050 for wav in natives])
    converted_s = np.mean([len(samples_of(wav)[0]) / 16000 for _, wav in converted])
    assert abs(native_s - converted_s) < 0.05 * native_s


def spectral_centroid(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples))
    freqs = np.fft.rfftfreq(len(samples), 1 / rate)
    return float((spectrum * freqs).sum() / spectrum.sum())


def test_speed_pitch_and_volume_controls(speech_stub: Any) -> None:
    normal, rate = samples_of(synthesize(speech_stub, whole_file=True)[1])
    high, _ = samples_of(synthesize(speech_stub, pitch=7.0, whole_file=True)[1])
    quiet, _ = samples_of(synthesize(speech_stub, volume=0.5, whole_file=True)[1])
    # Piper draws phoneme durations at random (a few % from one synthesis to the next): the speed
    # ratio is taken over means of three syntheses each.
    normals = [normal] + [samples_of(synthesize(speech_stub, whole_file=True)[1])[0] for _ in range(2)]
    slows = [samples_of(synthesize(speech_stub, speed=0.5, whole_file=True)[1])[0] for _ in range(3)]
    assert 1.7 < sum(map(len, slows)) / sum(map(len, normals)) < 2.3
    assert 0.85 < len(high) / len(normal) < 1.15, "pitch must not change the duration much"
    assert spectral_centroid(high, rate) > 1.2 * spectral_centroid(normal, rate)
    assert np.abs(normal).max() > 0.9 and 0.45 < np.abs(quiet).max() < 0.55


@pytest.mark.parametrize("fmt", [pb.AUDIO_FORMAT_MP3, pb.AUDIO_FORMAT_OPUS, pb.AUDIO_FORMAT_AAC])
def test_compressed_stream_transcribes_back(speech_stub: Any, fmt: int) -> None:
    replies, audio = synthesize(speech_stub, format=fmt, voice="alloy")
    assert replies[-1].final and replies[0].voice == "en_US-joe-medium"
    reply = transcribe(speech_stub, audio, pb.TranscribeConfig(language="en"))
    assert heard_back(SENTENCE, reply.text), reply.text


def test_transcribe_stereo_44k_with_words_and_language(speech_stub: Any, sentence_wav: bytes) -> None:
    stereo = resampled_stereo(sentence_wav, 44100)
    reply = transcribe(speech_stub, stereo, pb.TranscribeConfig(word_timestamps=True, filename="s.wav"))
    assert words(reply.text) == words(SENTENCE)
    assert reply.language == "en" and reply.language_name == "english" and reply.language_probability > 0.5
    assert reply.model == "whisper-tiny" and reply.task == "transcribe" and reply.device == "cpu"
    assert 1.5 < reply.duration_seconds < 6 and reply.segments
    timed = [w for s in reply.segments for w in s.words]
    assert [w.word.strip(" .").lower() for w in timed] == words(SENTENCE)
    assert all(0 <= w.start <= w.end <= reply.duration_seconds + 0.5 for w in timed)
    assert [w.start for w in timed] == sorted(w.start for w in timed)


def test_config_must_come_first(speech_stub: Any, sentence_wav: bytes) -> None:
    messages = [pb.TranscribeRequest(audio=sentence_wav), pb.TranscribeRequest(config=pb.TranscribeConfig())]
    with pytest.raises(grpc.RpcError) as caught:
        speech_stub.Transcribe(iter(messages), timeout=30)
    assert (
        caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        and "before any audio" in caught.value.details()
    )


def test_voices_and_status(speech_stub: Any) -> None:
    voices = {v.name: v for v in speech_stub.ListVoices(pb.ListVoicesRequest(), timeout=5).voices}
    assert voices["en_US-joe-medium"].available and "alloy" in voices["en_US-joe-medium"].aliases
    assert voices["whisper-tiny"].available and "whisper-1" in voices["whisper-tiny"].aliases
    assert (
        not voices["speecht5_tts"].available
        and "microsoft/speecht5_tts" in voices["speecht5_tts"].unavailable_reason
    )
    before = speech_stub.GetSpeechStatus(pb.GetSpeechStatusRequest(), timeout=5)
    synthesize(speech_stub)
    after = speech_stub.GetSpeechStatus(pb.GetSpeechStatusRequest(), timeout=5)
    assert after.tts_ready and after.stt_ready and after.device == "cpu"
    assert after.syntheses == before.syntheses + 1
    assert after.synthesized_characters == before.synthesized_characters + len(SENTENCE)
    assert after.synthesized_seconds > before.synthesized_seconds
    assert 0 < after.tts_real_time_factor < 1 and 0 < after.mean_first_audio_seconds < 5
    assert {"wav", "flac", "opus", "mp3"} <= set(after.output_formats)
    assert after.limits["max_text_chars"] == "4096" and after.limits["max_audio_seconds"] == "600"
