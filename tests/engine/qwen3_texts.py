"""Real-length scripts for Qwen3-TTS chunking tests: one long English paragraph (numbers and
abbreviations the English normalizer rewrites) and a Chinese one (no spaces, fullwidth punctuation,
quotes, a decimal number), each followed by a pause and a short second part."""

ENGLISH = " ".join([
    "The common mynah is a bird of the starling family, and it is famous for one thing above all others:",
    "it listens, and then it answers in a voice that is not quite its own.",
    "In 1998, Dr. Alvarez spent 42 mornings in a garden outside the city with a notebook and a small recorder.",
    "She wanted to know how long a young bird needs to hear a sound before it can repeat it,",
    "and whether it keeps the rhythm of a phrase or only the shape of its vowels.",
    "The answer surprised her. The birds kept the rhythm first; the vowels came weeks later,",
    "and the consonants, the hardest part, came last of all, if they came at all.",
    "A recording from the third week sounds like a person humming a sentence behind a closed door.",
    "By the sixth week you can hear where the words begin and end, though you still cannot say what they are.",
    "Some birds never went further than that, and she called them the hummers in her notes.",
    "Others, perhaps one in five, learned whole phrases and used them at the right moments,",
    "greeting the gardener in the morning and scolding the neighbour's cat in the afternoon.",
    "Nobody taught them when to speak. They learned it the way they learned the words: by listening.",
] * 3)

CHINESE = "".join([
    "八哥是一种椋鸟科的鸟，它最出名的本领只有一个：它会倾听，然后用一种不完全属于自己的声音来回答。",
    "一九九八年，阿尔瓦雷斯博士在城外的一个花园里度过了四十二个早晨，身边只有一个笔记本和一台小录音机。",
    "她想知道，一只年轻的鸟需要听一个声音多久，才能把它重复出来；它记住的是一句话的节奏，还是只有元音的形状？",
    "答案让她很惊讶！这些鸟先记住了节奏，元音要过好几个星期才出现，而最难的辅音总是最后才来，有时候根本不来。",
    "第三个星期的录音，听起来就像有人在一扇关着的门后面哼一句话。",
    "到了第六个星期，你已经能听出每个词从哪里开始、在哪里结束，虽然你还是说不出它们是什么。",
    "有些鸟一直停留在这个阶段，她在笔记里把它们叫做“哼唱者”。",
    "另一些鸟，大约五只里有一只，学会了完整的句子，而且会在恰当的时候说出来：早上向园丁问好，下午骂邻居家的猫。",
    "平均来说，一只鸟每天要听3.5个小时。",
    "没有人教它们什么时候该说话。它们学会这一点的方式，和学会那些词的方式一样：靠倾听。",
] * 4)

SECOND_PART = {"english": "\n\nThat is all for today. Thank you for listening!",
               "chinese": "\n\n今天就讲到这里。谢谢大家！"}
