"""The speech core's pieces without processes: codecs, decoding, catalogue, subtitles, WER."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest

from gateway.dialects.openai.audio import srt, vtt
from meshserve.v1 import speech_pb2 as pb
from services.common.errors import InvalidInput, ModelNotFound, ModelNotLoaded, PayloadTooLarge
from services.speech import voices
from services.speech.audio import decode, is_silent, pitch_and_tempo, pitch_factor, resample, time_stretch
from services.speech.codecs import FORMATS, Encoder, available_formats, encoded_rate, output_format
from tests.speech.audio_files import PNG_BYTES, long_wav, silence_wav, wav_bytes
from tests.speech.wer import wer, words

TONE = (0.3 * np.sin(2 * np.pi * 440 * np.arange(22050) / 22050)).astype(np.float32)


@pytest.mark.parametrize("name", ["wav", "flac", "opus", "mp3", "aac"])
@pytest.mark.parametrize("whole", [False, True])
def test_every_format_round_trips_in_pieces(name: str, whole: bool) -> None:
    assert name in available_formats()
    encoder = Encoder(FORMATS[name], 22050, whole_file=whole)
    data = encoder.encode(TONE) + encoder.encode(TONE) + encoder.finish()
    decoded = decode(data, max_seconds=10)
    assert abs(decoded.seconds - 2.0) < 0.1  # codec padding (MP3, AAC) adds a few milliseconds
    # Opus decoders always run at 48 kHz, whatever rate was encoded.
    assert decoded.source_rate == (48000 if name == "opus" else encoded_rate(FORMATS[name], 22050))


def test_pcm_is_raw_samples_at_the_asked_rate() -> None:
    encoder = Encoder(FORMATS["pcm"], 24000)
    data = encoder.encode(resample(TONE, 22050, 24000)) + encoder.finish()
    assert len(data) == 2 * 24000


def test_opus_rates_round_up_to_what_the_codec_takes() -> None:
    assert encoded_rate(FORMATS["opus"], 22050) == 24000
    assert encoded_rate(FORMATS["opus"], 48000) == 48000
    assert encoded_rate(FORMATS["wav"], 22050) == 22050


def test_unknown_output_format_names_the_supported_ones() -> None:
    with pytest.raises(InvalidInput, match="unsupported output format 'ogg-vorbis'") as caught:
        output_format("ogg-vorbis")
    assert "mp3" in caught.value.details["supported"]


def test_decode_downmixes_and_resamples_any_rate() -> None:
    stereo = np.repeat(TONE[:, None], 2, axis=1).reshape(-1)
    decoded = decode(wav_bytes(stereo, 22050, channels=2), max_seconds=10)
    assert decoded.sample_rate == 16000 and decoded.source_channels == 2 and decoded.source_rate == 22050
    assert abs(decoded.seconds - 1.0) < 0.01


def test_decode_refusals() -> None:
    with pytest.raises(InvalidInput, match="empty"):
        decode(b"", max_seconds=10)
    with pytest.raises(InvalidInput, match="no audio stream"):
        decode(PNG_BYTES, max_seconds=10)
    with pytest.raises(PayloadTooLarge, match="limit of 3 seconds"):
        decode(long_wav(4), max_seconds=3)


def test_silence_is_detected() -> None:
    assert is_silent(decode(silence_wav(1), max_seconds=5).samples)
    assert not is_silent(TONE)


def test_pitch_factor_is_an_octave_at_twelve() -> None:
    assert pitch_factor(12) == 2.0 and pitch_factor(0) == 1.0


def dominant_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[spectrum.argmax()])


@pytest.mark.parametrize("tempo", [0.25, 0.5, 0.8, 2.0, 3.0, 4.0])
def test_time_stretch_divides_the_duration_and_keeps_the_pitch(tempo: float) -> None:
    stretched = time_stretch(TONE, 22050, tempo)
    assert len(stretched) == round(22050 / tempo)
    assert abs(dominant_hz(stretched, 22050) - 440) < 5


def test_pitch_and_tempo_move_the_pitch_without_the_duration() -> None:
    octave_up = pitch_and_tempo(TONE, 22050, semitones=12, speed=1.0)
    assert abs(len(octave_up) / 22050 - 1.0) < 0.002
    assert abs(dominant_hz(octave_up, 22050) - 880) < 5
    fifth_up_fast = pitch_and_tempo(TONE, 22050, semitones=7, speed=2.0)
    assert abs(len(fifth_up_fast) / 22050 - 0.5) < 0.002
    assert abs(dominant_hz(fifth_up_fast, 22050) - 440 * pitch_factor(7)) < 5


def test_catalogue_resolution() -> None:
    assert voices.resolve("alloy", "tts", "en_US-joe-medium").name == "en_US-joe-medium"
    assert voices.resolve("", "tts", "en_US-joe-medium").name == "en_US-joe-medium"
    assert voices.resolve("whisper-1", "stt", "whisper-tiny").name == "whisper-tiny"
    with pytest.raises(ModelNotLoaded, match="not available offline"):
        voices.resolve("speecht5_tts", "tts", "en_US-joe-medium")
    with pytest.raises(ModelNotFound, match="installed: en_US-joe-medium"):
        voices.resolve("nobody", "tts", "en_US-joe-medium")
    with pytest.raises(ModelNotFound):
        voices.resolve("alloy", "stt", "whisper-tiny")


def test_subtitles() -> None:
    reply = pb.TranscribeResponse(
        segments=[
            pb.Segment(id=0, start=0.0, end=2.5, text=" Hello there."),
            pb.Segment(id=1, start=3661.25, end=3662.0, text=" Bye."),
        ]
    )
    assert srt(reply) == (
        "1\n00:00:00,000 --> 00:00:02,500\nHello there.\n\n2\n01:01:01,250 --> 01:01:02,000\nBye.\n"
    )
    assert vtt(reply).startswith("WEBVTT\n\n00:00:00.000 --> 00:00:02.500\nHello there.\n\n01:01:01.250")


def test_wer() -> None:
    assert words("Text-to-speech, OK?") == ["text", "to", "speech", "ok"]
    assert wer(["a b c d"], ["a x c"]) == 0.5
    assert wer(["same words"], ["Same, words!"]) == 0.0


def test_streamed_wav_header_declares_unknown_length() -> None:
    encoder = Encoder(FORMATS["wav"], 22050)
    head = encoder.encode(TONE)
    assert head[:4] == b"RIFF" and head[4:8] == b"\xff\xff\xff\xff"
    whole = Encoder(FORMATS["wav"], 22050, whole_file=True)
    data = whole.encode(TONE) + whole.finish()
    assert int.from_bytes(data[4:8], "little") == len(data) - 8
    with av.open(io.BytesIO(head + encoder.finish())) as container:
        assert sum(f.samples for f in container.decode(audio=0)) == len(TONE)
